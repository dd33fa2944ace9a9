using System.Collections.Concurrent;
using System.Threading.Channels;
using Blueprint.Core.Raft;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// Drives one <see cref="RaftNode"/>: a single loop owns the node and takes every input (ticks, peer messages,
/// proposals, reads, configuration changes) from one bounded channel, then handles each <see cref="Ready"/> in the
/// order the core's contract asks: persist, send, install and apply, answer waiters and reads, advance. Peers talk
/// over gRPC (<see cref="RaftPeerService"/>); a follower forwards proposals and leader-only calls to the leader. The
/// member table travels through the log next to the state machine's commands. See docs/raft-host.md.
/// </summary>
public sealed partial class RaftHost : IAsyncDisposable
{
    /// <summary>The first byte of a Normal entry that carries a state machine command.</summary>
    internal const byte TagCommand = 0;

    /// <summary>The first byte of a Normal entry that carries a member table update.</summary>
    internal const byte TagMembers = 1;

    /// <summary>Most inputs handled before the loop turns to the Ready they produced.</summary>
    private const int InputsPerReadyMax = 1024;

    private readonly RaftHostOptions _options;
    private readonly IRaftStorage _storage;
    private readonly IRaftStateMachine _stateMachine;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Input> _inputs;
    private readonly ConcurrentDictionary<int, PeerSender> _senders = new();
    private readonly ConcurrentDictionary<string, Func<ReadOnlyMemory<byte>, CancellationToken, Task<byte[]>>> _handlers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lifecycle = new();
    private readonly ProposalTable _proposals;
    private readonly ReadBatcher _reads;
    private readonly SnapshotScheduler _snapshots;

    private RaftNode? _node;
    private MemberTable _table;
    private Status _status = Status.Initial;
    private TaskCompletionSource _statusChanged = NewSignal();
    private IReadOnlyList<RaftMember> _members;
    private MemberView _memberView;
    private ITimer? _ticker;
    private Task? _loop;
    private Task? _publish;
    private int _started;
    private volatile bool _removed;
    private int _disposed;
    private ulong _clusterId;

    /// <summary>Creates a host; nothing runs until <see cref="StartAsync"/>.</summary>
    /// <param name="options">The settings; every problem is reported at once.</param>
    /// <param name="storage">The node's stable storage; a fresh one must start with <see cref="RaftHostOptions.BootstrapVoters"/>.</param>
    /// <param name="stateMachine">The replicated state machine.</param>
    /// <param name="loggers">Where logs go.</param>
    /// <param name="time">The clock for ticks and retries.</param>
    public RaftHost(RaftHostOptions options, IRaftStorage storage, IRaftStateMachine stateMachine, ILoggerFactory loggers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(stateMachine);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _options = options;
        _storage = storage;
        _stateMachine = stateMachine;
        _loggers = loggers;
        _logger = loggers.CreateLogger<RaftHost>();
        _time = time;
        _inputs = Channel.CreateBounded<Input>(new BoundedChannelOptions(options.InputQueueMax)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _clusterId = options.Join ? 0 : MemberTable.ComputeClusterId(options.InitialMembers);
        _table = new MemberTable(_clusterId, options.InitialMembers);
        _members = _table.Members;
        _memberView = new MemberView(_table);
        _proposals = new ProposalTable(options.NodeId, options.ProposalsPendingMax);
        _reads = new ReadBatcher(options.NodeId, options.ReadsPendingMax, options.ElectionTimeoutTicks);
        _snapshots = new SnapshotScheduler(options.NodeId, options.SnapshotEveryEntries, storage, stateMachine, _logger, PostToLoop, () => _loopStopped);
        RegisterBuiltInHandlers();
    }

    /// <summary>This node's id.</summary>
    public int Id => _options.NodeId;

    /// <summary>The leader this node knows of, or 0.</summary>
    public int LeaderId => Volatile.Read(ref _status).LeaderId;

    /// <summary>The current term.</summary>
    public long Term => Volatile.Read(ref _status).Term;

    /// <summary>Whether this node leads the current term.</summary>
    public bool IsLeader => Volatile.Read(ref _status).IsLeader;

    /// <summary>This node's role as of the loop's last step.</summary>
    public RaftRole Role => Volatile.Read(ref _status).Role;

    /// <summary>The highest index applied to the state machine.</summary>
    public long AppliedIndex => Volatile.Read(ref _status).AppliedIndex;

    /// <summary>The highest index known committed.</summary>
    public long CommitIndex => Volatile.Read(ref _status).CommitIndex;

    /// <summary>The index of the latest snapshot the log was compacted to.</summary>
    public long SnapshotIndex => Volatile.Read(ref _status).SnapshotIndex;

    /// <summary>The cluster id: a hash of the initial members; 0 on a joining node until it hears from the cluster.</summary>
    public ulong ClusterId => Volatile.Read(ref _clusterId);

    /// <summary>The replicated member table as of the applied index.</summary>
    public IReadOnlyList<RaftMember> Members => Volatile.Read(ref _members);

    /// <summary>Fires when the host is disposed; ends the peer streams it serves.</summary>
    internal CancellationToken Stopping => _stop.Token;

    /// <summary>Whether this node was removed from the cluster and stopped.</summary>
    public bool IsRemoved => _removed;

    /// <summary>Whether the loop has stopped: disposed, removed, or failed.</summary>
    public bool IsStopped => _loop is { IsCompleted: true };

    /// <summary>Raised off the driver loop when this node becomes (true) or stops being (false) the leader.</summary>
    public event Action<bool>? LeadershipChanged;

    /// <summary>
    /// Restores the state machine and member table from the storage snapshot, re-applies the committed entries after
    /// it, then starts ticking, sending and publishing this node's client URLs.
    /// </summary>
    /// <param name="ct">Cancels the wait for the re-apply (the host keeps running).</param>
    /// <returns>A task that completes once the committed entries are applied again.</returns>
    public async Task StartAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"Raft host {Id} is already started.");
        }

        CheckBootstrap();
        _node = new RaftNode(_options.ToRaftConfig(), _storage, new Random());
        _persistedTerm = _storage.HardState.Term;
        RestoreFromStorage(_storage.Snapshot);

        // A cluster of one waits for no one: it campaigns at once rather than after an election timeout, so the member
        // (and its node's readiness) is up as soon as it starts.
        if (_node.Voters is [var only] && only == Id)
        {
            for (var tick = 0; tick < 2 * _options.ElectionTimeoutTicks && _node.Role != RaftRole.Leader; tick++)
            {
                _node.Tick();
            }
        }

        PublishStatus();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = Task.Run(() => RunLoopAsync(started), CancellationToken.None);
        _ticker = _time.CreateTimer(_ => _inputs.Writer.TryWrite(TickInput.Instance), null, _options.TickInterval, _options.TickInterval);
        _publish = Task.Run(PublishClientUrlsAsync, CancellationToken.None);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var members = string.Join(", ", Members.Select(member => $"{member.Id}={member.Name}@{string.Join(" ", member.PeerUrls)}"));
            ClusterLog.Started(_logger, Id, _options.Name, ClusterId, _storage.Snapshot.Metadata.Index, _node.CommitIndex, members);
        }
        await started.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops ticking and the loop (after the Ready in hand is persisted), fails every waiter, and closes peer connections.</summary>
    /// <returns>A task that completes once everything stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_ticker is not null)
        {
            await _ticker.DisposeAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _inputs.Writer.TryComplete();
        await AwaitQuietly(_loop).ConfigureAwait(false);
        await AwaitQuietly(_publish).ConfigureAwait(false);
        await AwaitQuietly(_snapshots.Running).ConfigureAwait(false);
        foreach (var sender in _senders.Values)
        {
            await sender.DisposeAsync().ConfigureAwait(false);
        }

        _senders.Clear();
        ClusterLog.Stopped(_logger, Id);
    }

    private static async Task AwaitQuietly(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void CheckBootstrap()
    {
        bool fresh = _storage.Snapshot.Metadata.Index == 0 && _storage.HardState == default && _storage.LoadEntries().Count == 0;
        var expected = _options.BootstrapVoters();
        if (fresh && !_storage.Snapshot.Metadata.Voters.Order().SequenceEqual(expected))
        {
            throw new InvalidOperationException(
                $"Raft host {Id}: fresh storage bootstraps voters [{string.Join(",", _storage.Snapshot.Metadata.Voters)}] but the options ask for " +
                $"[{string.Join(",", expected)}]; create the storage with RaftHostOptions.BootstrapVoters() (empty when joining).");
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What other threads may read of the loop's state, replaced as a whole.</summary>
    private sealed record Status(int LeaderId, long Term, RaftRole Role, long AppliedIndex, long CommitIndex, long SnapshotIndex)
    {
        public static readonly Status Initial = new(0, 0, RaftRole.Follower, 0, 0, 0);

        public bool IsLeader => Role == RaftRole.Leader;
    }

    /// <summary>Who is in the table and the next id, for the receive path's checks.</summary>
    private sealed class MemberView(MemberTable table)
    {
        private readonly HashSet<int> _ids = [.. table.Members.Select(m => m.Id)];
        private readonly int _nextId = table.NextId;

        public int NextId => _nextId;

        public bool Contains(int id) => _ids.Contains(id);

        /// <summary>An id below the next one that is not in the table was removed; a higher one may be a member this node has not applied yet.</summary>
        public bool WasRemoved(int id) => id < _nextId && !_ids.Contains(id);
    }
}
