// Hand-written: the MVCC store is the subject of this module, so its code is written and reviewed
// line by line rather than generated. It follows etcd v3.4's multi-version store (server mvcc
// package: keyIndex generations, revision-keyed backend, compaction) and the apply rules of
// etcdserver/apply.go and api/v3rpc/key.go (request checks, txn duplicate-key rule, error texts).
using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

/// <summary>
/// The deterministic key-value state machine behind the etcd v3 API: every change gets a new store
/// revision, every key keeps its past versions until compaction, and leases own keys. Raft applies
/// committed <see cref="InternalRequest"/>s through <see cref="Apply"/> on one thread; reads
/// (<see cref="Range"/>, <see cref="Leases"/>, <see cref="Snapshot"/>) may run on any thread at the
/// same time and always see the state between two applies, never inside one.
/// </summary>
public sealed partial class MvccStore : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly MvccLimits _limits;
    private State _state = new();

    /// <summary>Creates an empty store at revision 1.</summary>
    /// <param name="limits">Request bounds; <see cref="MvccLimits.Default"/> when null.</param>
    public MvccStore(MvccLimits? limits = null)
    {
        _limits = limits ?? MvccLimits.Default;
        _limits.Validate();
    }

    /// <summary>
    /// Raised after each apply that changed keys, on the applying thread and outside the store's
    /// lock, with the new revision and its events in order (with <c>prev_kv</c> filled in).
    /// Handlers must be quick: Raft's apply loop waits for them.
    /// </summary>
    public event Action<long, IReadOnlyList<Event>>? Applied;

    /// <summary>The current store revision; 1 for an empty store, as in etcd.</summary>
    public long Revision
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _state.Revision;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>The revision of the latest compaction; 0 when never compacted.</summary>
    public long CompactRevision
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _state.CompactRevision;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Applies one committed request. Deterministic: replicas fed the same requests reach the same
    /// state. A refused request changes nothing and answers <c>error_code</c> (a gRPC status number)
    /// and <c>error_message</c> (etcd's text) instead of throwing. Only <c>header.revision</c> is
    /// filled in; the service adds cluster, member and term.
    /// </summary>
    /// <param name="request">The command taken from the Raft log.</param>
    /// <returns>The response, or the error.</returns>
    public InternalResponse Apply(InternalRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        InternalResponse response;
        Batch? batch = null;
        _lock.EnterWriteLock();
        try
        {
            response = ApplyLocked(request, ref batch);
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        if (batch is { Events.Count: > 0 })
        {
            Applied?.Invoke(batch.Revision, batch.Events);
        }

        return response;
    }

    /// <summary>
    /// Reads keys. Thread-safe against <see cref="Apply"/>. The header carries the current store
    /// revision, as in etcd, whatever revision was read.
    /// </summary>
    /// <param name="request">The range request; <c>serializable</c> is the service's concern and ignored here.</param>
    /// <returns>The matching pairs, count and <c>more</c> flag.</returns>
    /// <exception cref="MvccException">The key is empty, the revision is compacted or in the future, or the sort option is unknown.</exception>
    public RangeResponse Range(RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        _lock.EnterReadLock();
        try
        {
            CheckRange(request);
            var response = RangeAt(request, _state.Revision);
            response.Header = new ResponseHeader { Revision = _state.Revision };
            return response;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Every lease, in ascending ID order.</summary>
    /// <returns>The leases with their attached keys.</returns>
    public IReadOnlyList<MvccLease> Leases()
    {
        _lock.EnterReadLock();
        try
        {
            return [.. _state.Leases.Values.Select(ToPublic)];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>One lease, or null when it does not exist.</summary>
    /// <param name="id">The lease ID.</param>
    /// <returns>The lease with its attached keys, or null.</returns>
    public MvccLease? Lease(long id)
    {
        _lock.EnterReadLock();
        try
        {
            return _state.Leases.TryGetValue(id, out var lease) ? ToPublic(lease) : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    private static MvccLease ToPublic(LeaseState lease) => new(lease.Id, lease.TtlSeconds, [.. lease.Keys]);

    private InternalResponse ApplyLocked(InternalRequest request, ref Batch? batch)
    {
        try
        {
            if (request.CalculateSize() > _limits.RequestBytesMax)
            {
                throw MvccErrors.RequestTooLarge();
            }

            batch = new Batch(_state.Revision + 1);
            var response = request.RequestCase switch
            {
                InternalRequest.RequestOneofCase.Put => new InternalResponse { Put = ApplyPut(request.Put, batch) },
                InternalRequest.RequestOneofCase.DeleteRange => new InternalResponse { DeleteRange = ApplyDeleteRange(request.DeleteRange, batch) },
                InternalRequest.RequestOneofCase.Txn => new InternalResponse { Txn = ApplyTxn(request.Txn, batch) },
                InternalRequest.RequestOneofCase.Compaction => new InternalResponse { Compaction = ApplyCompaction(request.Compaction) },
                InternalRequest.RequestOneofCase.LeaseGrant => new InternalResponse { LeaseGrant = ApplyLeaseGrant(request.LeaseGrant) },
                InternalRequest.RequestOneofCase.LeaseRevoke => new InternalResponse { LeaseRevoke = ApplyLeaseRevoke(request.LeaseRevoke, batch) },
                _ => throw MvccErrors.EmptyRequest(),
            };
            if (batch.Events.Count > 0)
            {
                _state.Revision = batch.Revision;
            }

            return response;
        }
        catch (MvccException error)
        {
            // Every check runs before the first change, so a refused request leaves no trace.
            Invariant(batch is null || batch.Events.Count == 0, "a refused request changed the store");
            batch = null;
            return new InternalResponse { ErrorCode = (int)error.Code, ErrorMessage = error.Message };
        }
    }

    private static void Invariant(bool condition, string rule)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"mvcc invariant broken: {rule}");
        }
    }

    private ResponseHeader Header() => new() { Revision = _state.Revision };

    /// <summary>The changes of one apply: all share one main revision; list order is etcd's sub-revision order.</summary>
    private sealed class Batch(long revision)
    {
        public long Revision { get; } = revision;

        public List<Event> Events { get; } = [];
    }

    /// <summary>The whole mutable state, swapped as one object by <see cref="Restore"/>.</summary>
    private sealed class State
    {
        /// <summary>Every key with a retained version, ordered by key bytes.</summary>
        public SortedSet<KeyHistory> Index { get; } = new(KeyHistoryComparer.Instance);

        public Dictionary<ByteString, KeyHistory> ByKey { get; } = [];

        /// <summary>Every retained version in revision order (then sub-revision order): the watch history.</summary>
        public List<KeyVersion> Log { get; set; } = [];

        public long Revision { get; set; } = 1;

        public long CompactRevision { get; set; }

        public SortedDictionary<long, LeaseState> Leases { get; } = [];
    }

    private sealed class LeaseState(long id, long ttlSeconds)
    {
        public long Id { get; } = id;

        public long TtlSeconds { get; } = ttlSeconds;

        public SortedSet<ByteString> Keys { get; } = new(KeyComparer.Instance);
    }
}
