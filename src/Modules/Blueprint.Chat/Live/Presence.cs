using Blueprint.Chat.Storage;
using Blueprint.Kv;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Chat.Live;

/// <summary>
/// Who is online, in the KV: a key per user with a TTL, set when a connection authenticates and refreshed by its
/// heartbeats, so a user whose every connection died goes offline when the key expires, on any node. Best effort: a KV
/// that fails or times out costs presence (logged), never a chat connection.
/// </summary>
internal sealed partial class Presence(IKvConnection kv, IOptions<ChatOptions> options, TimeProvider time, ILogger<Presence> logger)
{
    private readonly ChatOptions _options = options.Value;

    private RedisKey Key(long userId) => $"{_options.KeyPrefix}presence:{Frames.Id(userId)}";

    /// <summary>Marks a user online for <see cref="ChatOptions.PresenceTtlSeconds"/>.</summary>
    public Task TouchAsync(ChatUser user, CancellationToken cancellationToken) => BestEffortAsync(async () =>
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        await redis.GetDatabase().StringSetAsync(Key(user.Id), time.GetUtcNow().ToUnixTimeMilliseconds(), TimeSpan.FromSeconds(_options.PresenceTtlSeconds)).ConfigureAwait(false);
    });

    /// <summary>Marks a user offline (their last connection on this node closed).</summary>
    public Task LeaveAsync(ChatUser user, CancellationToken cancellationToken) => BestEffortAsync(async () =>
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        await redis.GetDatabase().KeyDeleteAsync(Key(user.Id)).ConfigureAwait(false);
    });

    private async Task BestEffortAsync(Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            LogPresenceFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence could not be written to the KV; it stays as it was until the key's TTL")]
    private static partial void LogPresenceFailed(ILogger logger, Exception error);

    public async Task<bool> IsOnlineAsync(long userId, CancellationToken cancellationToken)
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        return await redis.GetDatabase().KeyExistsAsync(Key(userId)).ConfigureAwait(false);
    }
}
