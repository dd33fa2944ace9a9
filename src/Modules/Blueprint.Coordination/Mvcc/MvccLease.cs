using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

/// <summary>A lease as the store knows it: expiry timing is the lease service's business, not the store's.</summary>
/// <param name="Id">The lease ID, never 0.</param>
/// <param name="TtlSeconds">The TTL granted, in seconds.</param>
/// <param name="Keys">The keys attached to the lease, in ascending byte order.</param>
public sealed record MvccLease(long Id, long TtlSeconds, IReadOnlyList<ByteString> Keys);
