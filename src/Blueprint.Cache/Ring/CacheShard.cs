using StackExchange.Redis;

namespace Blueprint.Cache.Ring;

/// <summary>One node of a <see cref="ShardedCacheClient"/>.</summary>
/// <param name="Name">The node's stable name on the ring (not its address, which may change).</param>
/// <param name="Connection">A multiplexer connected to that node alone.</param>
public sealed record CacheShard(string Name, IConnectionMultiplexer Connection);
