using System.Globalization;
using StackExchange.Redis;

namespace Blueprint.Cache.Near;

/// <summary>
/// The RESP side of near-cache coherence: the invalidation channel (PUBLISH/SUBSCRIBE) and the partition sequences
/// (one hash, <c>{prefix}:seq</c>, whose hash tag keeps every field in one cluster slot so one HGETALL reads them all).
/// Every call has a deadline of <see cref="BlueprintCacheOptions.NetworkTimeout"/>.
/// </summary>
/// <remarks>
/// Why pub/sub and not RESP3 client-side caching (<c>CLIENT TRACKING</c>, Redis 6): Garnet does not implement
/// CLIENT TRACKING, so the server cannot push invalidations for the keys a client read. The cache publishes its own,
/// and Garnet in cluster mode forwards a PUBLISH to every node, so a subscriber on any node hears it.
/// </remarks>
internal sealed class CoherenceChannel(IConnectionMultiplexer connection, BlueprintCacheOptions options, TimeProvider time)
{
    /// <summary>The hash field of the tag stream; partition streams are named by their number.</summary>
    private const string TagStreamField = "t";

    private readonly RedisChannel _channel = RedisChannel.Literal($"{options.Prefix}:inv");
    private readonly RedisKey _sequences = $"{{{options.Prefix}}}:seq";

    /// <summary>Subscribes <paramref name="onMessage"/> to the channel. StackExchange.Redis calls it in order, one message at a time.</summary>
    public Task SubscribeAsync(Action<RedisValue> onMessage) =>
        connection.GetSubscriber().SubscribeAsync(_channel, (_, message) => onMessage(message)).WaitAsync(options.NetworkTimeout, time);

    /// <summary>Stops the subscription.</summary>
    public Task UnsubscribeAsync() =>
        connection.GetSubscriber().UnsubscribeAsync(_channel).WaitAsync(options.NetworkTimeout, time);

    /// <summary>Increments the sequence of <paramref name="stream"/> and returns the new value.</summary>
    public Task<long> IncrementAsync(int stream) =>
        connection.GetDatabase().HashIncrementAsync(_sequences, FieldOf(stream)).WaitAsync(options.NetworkTimeout, time);

    /// <summary>Publishes <paramref name="invalidation"/>.</summary>
    public Task PublishAsync(Invalidation invalidation) =>
        connection.GetSubscriber().PublishAsync(_channel, invalidation.Format()).WaitAsync(options.NetworkTimeout, time);

    /// <summary>Reads every stream's sequence: index <c>i &lt; PartitionCount</c> is partition i, the last is the tag stream.</summary>
    public async Task<long[]> ReadSequencesAsync()
    {
        var fields = await connection.GetDatabase().HashGetAllAsync(_sequences).WaitAsync(options.NetworkTimeout, time);
        var sequences = new long[options.PartitionCount + 1];
        foreach (var field in fields)
        {
            var name = (string?)field.Name;
            if (name == TagStreamField)
            {
                sequences[options.PartitionCount] = (long)field.Value;
            }
            else if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var partition) && partition < options.PartitionCount)
            {
                sequences[partition] = (long)field.Value;
            }
        }

        return sequences;
    }

    private RedisValue FieldOf(int stream) =>
        stream == options.PartitionCount ? TagStreamField : stream.ToString(CultureInfo.InvariantCulture);
}
