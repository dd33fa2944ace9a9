using System.Buffers.Binary;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Blueprint.Raft.Hosting;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blueprint.Coordination.Etcd;

/// <summary>
/// Lease expiry, driven by the leader as in etcd: the replicated store holds each lease's granted TTL and keys; only
/// the leader keeps deadlines, in memory. A new leader starts every lease's clock afresh (a lease can outlive its TTL by
/// up to one failover, never expire early), keep-alives reach the leader, and an expired lease is revoked by
/// proposing <c>LeaseRevoke</c> through Raft, which deletes its keys in one revision.
/// </summary>
internal sealed partial class LeaseKeeper : BackgroundService
{
    /// <summary>How often the leader looks for expired leases.</summary>
    public static readonly TimeSpan ScanInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Most revocations proposed per scan (etcd revokes at most 1000 leases a second).</summary>
    public const int RevokesPerScanMax = 250;

    public const string KeepAliveKind = "lease-keepalive";
    public const string TimeToLiveKind = "lease-ttl";

    private readonly RaftHost _host;
    private readonly MvccStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<LeaseKeeper> _logger;
    private readonly System.Threading.Lock _gate = new();
    private readonly Dictionary<long, Deadline> _deadlines = [];
    private readonly TimeSpan _proposeTimeout;

    public LeaseKeeper(RaftHost host, MvccStore store, TimeProvider time, ILogger<LeaseKeeper> logger, Microsoft.Extensions.Options.IOptions<CoordinationOptions> options)
    {
        _host = host;
        _store = store;
        _time = time;
        _logger = logger;
        _proposeTimeout = TimeSpan.FromMilliseconds(options.Value.RequestTimeoutMs);
        host.RegisterLeaderHandler(KeepAliveKind, async (payload, cancellationToken) =>
        {
            // Renew only as a leader that still leads (a cut-off leader must not extend what the real one revokes).
            await host.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            return Encode(KeepAlive(Decode(payload.Span)));
        });
        host.RegisterLeaderHandler(TimeToLiveKind, (payload, _) => Task.FromResult(Encode(RemainingSeconds(Decode(payload.Span)))));
        host.LeadershipChanged += leading =>
        {
            if (!leading)
            {
                lock (_gate)
                {
                    _deadlines.Clear();
                }
            }
        };
    }

    public static byte[] Encode(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    public static long Decode(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 8 ? BinaryPrimitives.ReadInt64BigEndian(bytes) : throw new FormatException("a lease id is 8 bytes");

    /// <summary>On the leader: restarts the lease's clock and returns its TTL, or 0 when no such lease exists or it already expired (the client then stops).</summary>
    public long KeepAlive(long id)
    {
        if (_store.Lease(id) is not { } lease)
        {
            return 0;
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            // An expired lease stays expired, as in etcd: its revocation may already be on its way through Raft.
            if (_deadlines.TryGetValue(id, out var deadline) && (deadline.Revoking || deadline.At <= now))
            {
                return 0;
            }

            _deadlines[id] = new Deadline(now + TimeSpan.FromSeconds(lease.TtlSeconds), Revoking: false);
        }

        return lease.TtlSeconds;
    }

    /// <summary>On the leader: the seconds left before the lease expires, or -1 when no such lease exists.</summary>
    public long RemainingSeconds(long id)
    {
        if (_store.Lease(id) is not { } lease)
        {
            return -1;
        }

        lock (_gate)
        {
            if (_deadlines.TryGetValue(id, out var deadline))
            {
                var left = deadline.At - _time.GetUtcNow();
                return Math.Max(0, (long)Math.Ceiling(left.TotalSeconds));
            }
        }

        return lease.TtlSeconds;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ScanInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_host.IsLeader)
                {
                    Scan(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass: start clocks for leases this leader has not seen, forget revoked ones, revoke the expired.</summary>
    internal void Scan(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var expired = new List<long>();
        var leases = _store.Leases();
        lock (_gate)
        {
            var live = new HashSet<long>();
            foreach (var lease in leases)
            {
                live.Add(lease.Id);
                if (!_deadlines.TryGetValue(lease.Id, out var deadline))
                {
                    _deadlines[lease.Id] = new Deadline(now + TimeSpan.FromSeconds(lease.TtlSeconds), Revoking: false);
                }
                else if (deadline.At <= now && !deadline.Revoking && expired.Count < RevokesPerScanMax)
                {
                    _deadlines[lease.Id] = deadline with { Revoking = true };
                    expired.Add(lease.Id);
                }
            }

            foreach (var id in _deadlines.Keys.Where(id => !live.Contains(id)).ToList())
            {
                _deadlines.Remove(id);
            }
        }

        foreach (var id in expired)
        {
            _ = RevokeAsync(id, cancellationToken);
        }
    }

    private async Task RevokeAsync(long id, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_proposeTimeout);
        try
        {
            var request = new InternalRequest { LeaseRevoke = new LeaseRevokeRequest { ID = id } };
            await _host.ProposeAsync(request.ToByteArray(), deadline.Token).ConfigureAwait(false);
            Revoked(_logger, id);
        }
        catch (Exception e) when (e is OperationCanceledException or RaftException)
        {
            RevokeFailed(_logger, e, id);
        }
        finally
        {
            lock (_gate)
            {
                if (_deadlines.TryGetValue(id, out var entry))
                {
                    _deadlines[id] = entry with { Revoking = false };
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lease {LeaseId} expired and was revoked")]
    private static partial void Revoked(ILogger logger, long leaseId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Revoking expired lease {LeaseId} failed; the next scan retries")]
    private static partial void RevokeFailed(ILogger logger, Exception exception, long leaseId);

    private readonly record struct Deadline(DateTimeOffset At, bool Revoking);
}
