using System.Globalization;
using System.Text;
using Blueprint.Chat.Storage;
using Blueprint.Kv;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Chat.Live;

/// <summary>
/// The rooms' bus across nodes, on the KV. A message gets its room's next id, goes into the room's recent buffer and is
/// published, all in one script run, so the order the bus carries a room in is the order of its ids, and a message is in
/// the buffer before any node can see it live. Every node subscribes to one channel and hands what arrives to its
/// <see cref="ChatHub"/>, in arrival order. This is how Centrifugo's Redis engine does it (offset, history stream and
/// PUBLISH in one Lua script); the buffer is what a subscribe replays from while the sender's SQL insert may still be
/// running, so a replay and the live stream meet without a gap on any node.
/// </summary>
internal sealed partial class RoomBus(IKvConnection kv, ChatHub hub, IOptions<ChatOptions> options, ILogger<RoomBus> logger)
{
    /// <summary>
    /// KEYS: the room's last id, its recent buffer. ARGV: the candidate id, the buffer entry after its id, the frame before
    /// and after its id, the buffer's length, its TTL in ms, the channel, the room id. Ids are compared and incremented as
    /// decimal strings: Lua 5.1 (Redis) has only doubles, which cannot hold 64-bit ids.
    /// </summary>
    private const string SendScript = """
        local function greater(a, b)
          if #a ~= #b then return #a > #b end
          return a > b
        end
        local function increment(s)
          local i = #s
          local tail = ''
          while i > 0 do
            local digit = string.byte(s, i) - 48
            if digit < 9 then return string.sub(s, 1, i - 1) .. string.char(digit + 49) .. tail end
            tail = '0' .. tail
            i = i - 1
          end
          return '1' .. tail
        end
        local id = ARGV[1]
        local last = redis.call('GET', KEYS[1])
        if last and not greater(id, last) then id = increment(last) end
        redis.call('SET', KEYS[1], id)
        redis.call('RPUSH', KEYS[2], id .. ' ' .. ARGV[2])
        redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
        redis.call('PEXPIRE', KEYS[2], ARGV[6])
        redis.call('PUBLISH', ARGV[7], 'L ' .. ARGV[8] .. ' ' .. id .. ' 0 ' .. ARGV[3] .. id .. ARGV[4])
        return id
        """;

    /// <summary>The second field of a change's buffer entry (a message's is its sender's id, digits).</summary>
    private const string ChangeMark = "c";

    private readonly ChatOptions _options = options.Value;
    private ChannelMessageQueue? _queue;

    private RedisChannel Channel => RedisChannel.Literal($"{_options.KeyPrefix}bus");

    /// <summary>Keys of one room, in one hash slot (a Redis Cluster runs the script on one node).</summary>
    private RedisKey RoomKey(long roomId, string what) => $"{_options.KeyPrefix}{{{Frames.Id(roomId)}}}:{what}";

    /// <summary>Subscribes to the bus; the node serves chat only once this is done. A lost subscription cuts every subscriber off (4009), so none misses a message unknowingly.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        redis.ConnectionFailed += (_, failed) =>
        {
            if (failed.ConnectionType == ConnectionType.Subscription)
            {
                LogBusLost(logger, failed.FailureType);
                hub.CutSubscribers(ChatHub.ResyncCloseCode, "the node lost the room bus: reconnect and subscribe with since");
            }
        };
        _queue = await redis.GetSubscriber().SubscribeAsync(Channel).ConfigureAwait(false);
        _queue.OnMessage(message => Dispatch(message.Message));
    }

    public async Task StopAsync()
    {
        if (_queue is { } queue)
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(RedisValue payload)
    {
        if (BusFrame.TryParse(payload, out var frame))
        {
            hub.Dispatch(frame);
        }
        else
        {
            LogMalformed(logger);
        }
    }

    /// <summary>A node id for this node's ids, from a counter the nodes share in the KV (modulo 1024, so ids stay unique while fewer than 1024 nodes have started since the counter began).</summary>
    public async Task<int> AllocateNodeIdAsync(CancellationToken cancellationToken)
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        var count = await redis.GetDatabase().StringIncrementAsync($"{_options.KeyPrefix}node-ids").ConfigureAwait(false);
        return (int)((count - 1) % (Core.Identifiers.TimeOrderedIds.GeneratorMax + 1));
    }

    /// <summary>Gives a message its room's next id (its candidate, or one past the room's last id if that is not above it), buffers it and publishes it; returns the id.</summary>
    public Task<long> SendAsync(ChatMessage candidate, string userName, CancellationToken cancellationToken) => SequencedAsync(
        candidate.RoomId,
        candidate.Id,
        $"{Frames.Id(candidate.UserId)} {candidate.Text}",
        Frames.Json(Frames.Message(candidate, userName)),
        "id",
        cancellationToken);

    /// <summary>Gives an edit or a delete its room's next id (its offset, <c>seq</c> in its frame), buffers it and publishes it; returns the offset.</summary>
    public Task<long> ChangeAsync(ChatChange candidate, CancellationToken cancellationToken) => SequencedAsync(
        candidate.RoomId,
        candidate.Seq,
        $"{ChangeMark} {Frames.Id(candidate.MessageId)} {candidate.At.ToString(CultureInfo.InvariantCulture)} {(candidate.Deleted ? 'd' : 'e')} {candidate.Text}",
        Frames.Json(Frames.Change(candidate)),
        "seq",
        cancellationToken);

    /// <summary>
    /// Runs the send script for an entry whose offset is <paramref name="candidate"/> until the script decides it: the frame
    /// is cut around the candidate's value of <paramref name="field"/> (its first field holding an id), so the script puts
    /// the decided offset there.
    /// </summary>
    private async Task<long> SequencedAsync(long roomId, long candidate, string entryTail, byte[] frameBytes, string field, CancellationToken cancellationToken)
    {
        var frame = Encoding.UTF8.GetString(frameBytes);
        var marker = $"\"{field}\":\"";
        var at = frame.IndexOf(marker + Frames.Id(candidate) + "\"", StringComparison.Ordinal) + marker.Length;
        var before = frame[..at];
        var after = frame[(at + Frames.Id(candidate).Length)..];
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        var result = await Unavailable(redis.GetDatabase().ScriptEvaluateAsync(SendScript,
            [RoomKey(roomId, "last"), RoomKey(roomId, "recent")],
            [Frames.Id(candidate), entryTail, before, after, _options.RecentMax, _options.RecentTtlSeconds * 1000L, Channel.ToString(), Frames.Id(roomId)])).ConfigureAwait(false);
        return long.Parse((string)result!, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Publishes a frame that is not a new message (an edit, a delete, a receipt, typing) to the room's subscribers on every node.</summary>
    public async Task PublishAsync(long roomId, byte[] frame, FrameKind kind, long exceptUser, CancellationToken cancellationToken)
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        var head = string.Create(CultureInfo.InvariantCulture, $"{(kind == FrameKind.Droppable ? 'D' : 'E')} {roomId} 0 {exceptUser} ");
        byte[] payload = [.. Encoding.UTF8.GetBytes(head), .. frame];
        await Unavailable(redis.GetSubscriber().PublishAsync(Channel, payload)).ConfigureAwait(false);
    }

    /// <summary>The room's buffered messages and changes with offsets above <paramref name="since"/>, oldest first.</summary>
    public async Task<(List<ChatMessage> Messages, List<ChatChange> Changes)> RecentAsync(long roomId, long since, CancellationToken cancellationToken)
    {
        var redis = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        var entries = await Unavailable(redis.GetDatabase().ListRangeAsync(RoomKey(roomId, "recent"))).ConfigureAwait(false);
        var messages = new List<ChatMessage>();
        var changes = new List<ChatChange>();
        foreach (var entry in entries)
        {
            // "<id> <user> <text>" for a message, "<seq> c <message> <at> <d|e> <text>" for a change.
            var parts = ((string)entry!).Split(' ', 6);
            if (parts.Length >= 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > since)
            {
                if (parts[1] == ChangeMark && parts.Length == 6
                    && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var message)
                    && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var at))
                {
                    changes.Add(new ChatChange(roomId, id, message, parts[4] == "d" ? null : parts[5], at));
                }
                else if (long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var user))
                {
                    var text = ((string)entry!)[(parts[0].Length + parts[1].Length + 2)..];
                    messages.Add(new ChatMessage(roomId, id, user, text, null, null));
                }
            }
        }

        return (messages, changes);
    }

    /// <summary>A KV that fails or times out is the protocol's <c>unavailable</c>: nothing was sent.</summary>
    private static async Task<T> Unavailable<T>(Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new ChatException(ChatErrors.Unavailable, $"the KV that carries the rooms is unavailable: {e.Message}");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The chat's bus subscription failed ({Failure}); every subscriber was cut off to recover by offset")]
    private static partial void LogBusLost(ILogger logger, ConnectionFailureType failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A malformed frame on the chat's bus was ignored")]
    private static partial void LogMalformed(ILogger logger);
}

/// <summary>One frame off the bus: <c>kind room id except frame</c>, where kind is L (a new message, <paramref name="Id"/> its id), E (another live frame) or D (droppable: typing).</summary>
/// <param name="Kind">How the frame is delivered.</param>
/// <param name="Room">The room.</param>
/// <param name="Id">A new message's id; 0 for other frames.</param>
/// <param name="ExceptUser">A user whose connections are not told (the typist); 0: none.</param>
/// <param name="Frame">The frame as the clients get it.</param>
internal sealed record BusFrame(char Kind, long Room, long Id, long ExceptUser, byte[] Frame)
{
    public static bool TryParse(RedisValue payload, out BusFrame frame)
    {
        frame = null!;
        var bytes = (byte[]?)payload;
        if (bytes is null || bytes.Length < 2 || bytes[0] is not ((byte)'L' or (byte)'E' or (byte)'D') || bytes[1] != ' ')
        {
            return false;
        }

        var rest = bytes.AsSpan(2);
        Span<long> numbers = stackalloc long[3];
        for (var i = 0; i < 3; i++)
        {
            var space = rest.IndexOf((byte)' ');
            if (space < 0 || !long.TryParse(rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }

            rest = rest[(space + 1)..];
        }

        frame = new BusFrame((char)bytes[0], numbers[0], numbers[1], numbers[2], rest.ToArray());
        return true;
    }
}
