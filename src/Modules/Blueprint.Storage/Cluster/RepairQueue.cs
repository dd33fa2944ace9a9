using System.Threading.Channels;
using System.Threading.RateLimiting;
using Blueprint.Storage.Local;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage.Cluster;

/// <summary>A repair: <see cref="Holder"/> sends its version of an object to <see cref="Target"/>.</summary>
/// <remarks><c>Repair</c>: the target's copy is corrupt, so it is replaced even though it is the same version.</remarks>
internal sealed record RepairJob(string Holder, string Bucket, string Key, string Target, bool Repair = false);

/// <summary>
/// Background repairs (read repair, re-fetching a corrupt copy) in a bounded queue: a full queue drops the job and
/// counts it, because a repair missed now is made again by the next read or by anti-entropy. One worker runs them; the
/// bytes it sends are limited to <see cref="StorageOptions.RepairMegabytesPerSecond"/> with the rest of background repair.
/// </summary>
internal sealed partial class RepairQueue : BackgroundService
{
    /// <summary>Repairs that may wait; more are dropped (and counted).</summary>
    private const int MaxQueued = 10_000;

    private readonly Channel<RepairJob> _jobs = Channel.CreateBounded<RepairJob>(new BoundedChannelOptions(MaxQueued) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ReplicaPusher _pusher;
    private readonly ILogger _logger;
    private long _dropped;
    private long _done;

    public RepairQueue(ReplicaPusher pusher, ILogger<RepairQueue> logger)
    {
        _pusher = pusher;
        _logger = logger;
    }

    /// <summary>Repairs dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Repairs made.</summary>
    public long Done => Interlocked.Read(ref _done);

    public void Enqueue(RepairJob job)
    {
        if (!_jobs.Writer.TryWrite(job))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in _jobs.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await _pusher.RepairAsync(job, stoppingToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _done);
                }
                catch (Exception e) when (e is PeerUnavailableException or IOException or HttpRequestException or CorruptBlobException)
                {
                    RepairFailed(_logger, job.Bucket, job.Key, job.Target, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "storage: repair of {Bucket}/{Key} on {Target} failed ({Reason}); anti-entropy makes it later")]
    private static partial void RepairFailed(ILogger logger, string bucket, string key, string target, string reason);
}

/// <summary>Sends this node's copies to other nodes for repair and handoff, within the repair bandwidth.</summary>
internal sealed class ReplicaPusher : IDisposable
{
    private readonly LocalStore _store;
    private readonly StorageTopology _topology;
    private readonly PeerClient _peers;
    private readonly TokenBucketRateLimiter _bandwidth;

    public ReplicaPusher(LocalStore store, StorageTopology topology, PeerClient peers, IOptions<StorageOptions> options)
    {
        _store = store;
        _topology = topology;
        _peers = peers;
        var bytesPerSecond = options.Value.RepairMegabytesPerSecond * 1_000_000;
        _bandwidth = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(bytesPerSecond / 10, ThrottledStream.Chunk),
            TokensPerPeriod = Math.Max(bytesPerSecond / 10, 1),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public void Dispose() => _bandwidth.Dispose();

    /// <summary>Makes <paramref name="job"/>'s holder send its copy to the target: this node sends it, or asks the holder to.</summary>
    public async Task RepairAsync(RepairJob job, CancellationToken cancellationToken)
    {
        if (job.Holder == _topology.Self)
        {
            await PushAsync(job.Bucket, job.Key, job.Target, cancellationToken, job.Repair).ConfigureAwait(false);
        }
        else if (job.Target != job.Holder)
        {
            await _peers.PushAsync(job.Holder, job.Bucket, job.Key, job.Target, cancellationToken, job.Repair).ConfigureAwait(false);
        }
    }

    /// <summary>Sends this node's version of an object to <paramref name="target"/>; false when this node has none.</summary>
    public async Task<bool> PushAsync(string bucket, string key, string target, CancellationToken cancellationToken, bool repair = false)
    {
        var record = await _store.Meta.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        if (record is null || target == _topology.Self)
        {
            return false;
        }

        await SendAsync(target, record, hintFor: null, cancellationToken, repair).ConfigureAwait(false);
        return true;
    }

    /// <summary>Sends a version whose bytes this node keeps (as a replica or a hint) to <paramref name="target"/>.</summary>
    public async Task<bool> SendAsync(string target, ObjectRecord record, string? hintFor, CancellationToken cancellationToken, bool repair = false)
    {
        await using var body = record.Deleted ? null : new ThrottledStream(_store.OpenRead(record, 0, record.Size, cancellationToken), _bandwidth);
        return await _peers.SendAsync(target, record, body, hintFor, cancellationToken, repair).ConfigureAwait(false);
    }
}

/// <summary>A read stream that takes one token per byte from a shared limiter (background transfer bandwidth).</summary>
internal sealed class ThrottledStream(Stream inner, RateLimiter limiter) : ReadOnlyStream
{
    public const int Chunk = 64 * 1024;

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, Chunk)], cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            using var lease = await limiter.AcquireAsync(n, cancellationToken).ConfigureAwait(false);
        }

        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
