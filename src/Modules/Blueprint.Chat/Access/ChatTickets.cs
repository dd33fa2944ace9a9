using System.Globalization;
using Blueprint.Kv;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Chat.Access;

/// <summary>
/// Short-lived tickets for the one transport a browser cannot give a header: <c>EventSource</c>. A user with a key or
/// token asks for a ticket and puts it in the stream's URL as <c>?ticket=</c>; the ticket names the user for
/// <see cref="ChatOptions.TicketTtlSeconds"/> (so a reconnecting EventSource, which repeats its URL, gets back in within
/// that time) and is useless after, so one that lands in an access log is no key. Kept in the KV by its SHA-256, so any
/// node accepts it.
/// </summary>
internal sealed class ChatTickets(IKvConnection kv, IOptions<ChatOptions> options)
{
    /// <summary>What every ticket starts with.</summary>
    public const string Prefix = "bpt_";

    private readonly ChatOptions _options = options.Value;

    private RedisKey Key(string ticket) => $"{_options.KeyPrefix}ticket:{ChatKeys.Hash(ticket)}";

    /// <summary>Whether <paramref name="credential"/> could be a ticket at all.</summary>
    public static bool IsWellFormed(string? credential) => credential is { Length: <= ChatKeys.LengthMax } && credential.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>A new ticket for <paramref name="userId"/>.</summary>
    public async Task<string> IssueAsync(long userId, CancellationToken cancellationToken)
    {
        var ticket = Prefix + ChatKeys.New()[ChatKeys.Prefix.Length..];
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        await redis.GetDatabase().StringSetAsync(Key(ticket), userId, TimeSpan.FromSeconds(_options.TicketTtlSeconds)).ConfigureAwait(false);
        return ticket;
    }

    /// <summary>The user a live ticket names, or null.</summary>
    public async Task<long?> UserOfAsync(string ticket, CancellationToken cancellationToken)
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        var value = await redis.GetDatabase().StringGetAsync(Key(ticket)).ConfigureAwait(false);
        return value.HasValue && long.TryParse((string?)value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }
}
