using System.Collections.Immutable;
using Blueprint.Hosting;
using Blueprint.Log.Kafka;
using Blueprint.Log.Storage;

namespace Blueprint.Log.Broker;

/// <summary>What this broker is for a partition: its leader, or a follower of another broker, in a leader epoch.</summary>
/// <param name="Leader">The leader's broker id (-1: offline).</param>
/// <param name="LeaderEpoch">The epoch.</param>
/// <param name="Replicas">Every replica.</param>
/// <param name="Isr">The in-sync replicas.</param>
public sealed record PartitionRole(int Leader, int LeaderEpoch, ImmutableArray<int> Replicas, ImmutableArray<int> Isr);

/// <summary>
/// One partition on this broker: its log, its high watermark, and — when it leads — what its followers have fetched.
/// On a single broker it leads alone (ISR = itself), so the high watermark is the end of what is durable.
/// </summary>
/// <remarks>
/// As Kafka's leader does, it moves the high watermark to the smallest log end among the ISR: its own durable end (an
/// append counts once its fsync policy acknowledged it) and each in-sync follower's last fetch offset (a follower fetching
/// from offset n holds everything below n). Consumers read below the high watermark; followers read up to the log end.
/// </remarks>
public sealed class Partition
{
    private readonly Lock gate = new();
    private readonly Dictionary<int, FollowerProgress> followers = [];
    private readonly ChangeSignal appended = new();
    private long highWatermark;
    private long durableEnd;
    private PartitionRole role;

    internal Partition(Topic topic, int index, PartitionLog log, int self, bool clustered = false)
    {
        Topic = topic;
        Index = index;
        Log = log;
        Self = self;
        highWatermark = log.LogEndOffset;
        durableEnd = log.LogEndOffset;
        // Alone, it leads from the start; in a cluster it leads nothing until the metadata says so.
        role = clustered ? new PartitionRole(-1, -1, [], []) : new PartitionRole(self, 0, [self], [self]);
    }

    /// <summary>The topic.</summary>
    public Topic Topic { get; }

    /// <summary>The partition number.</summary>
    public int Index { get; }

    /// <summary>The log.</summary>
    public PartitionLog Log { get; }

    /// <summary>This broker's id.</summary>
    public int Self { get; }

    /// <summary>The role this broker has now.</summary>
    public PartitionRole Role => Volatile.Read(ref role);

    /// <summary>Whether this broker leads the partition.</summary>
    public bool IsLeader => Role.Leader == Self;

    /// <summary>The end of what consumers may read: every record below it is acknowledged by every in-sync replica.</summary>
    public long HighWatermark => Volatile.Read(ref highWatermark);

    /// <summary>Completes at the next append, high-watermark move or role change; fetches waiting for data await it.</summary>
    public Task Appended => appended.Next;

    /// <summary>Appends a produce request's batches as leader, stamped with the leader epoch, and moves the high watermark.</summary>
    public async ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> batches, CancellationToken cancellationToken)
    {
        var current = Role;
        if (current.Leader != Self)
        {
            throw new RecordRejectedException(ErrorCode.NotLeaderOrFollower, $"broker {Self} does not lead {Topic.Name}-{Index} (its leader is {current.Leader})");
        }

        var result = await Log.AppendAsync(batches, current.LeaderEpoch, cancellationToken).ConfigureAwait(false);
        lock (gate)
        {
            durableEnd = Math.Max(durableEnd, result.LastOffset + 1);
            AdvanceLocked();
        }

        Signal();
        return result;
    }

    /// <summary>
    /// Waits until the high watermark passes <paramref name="offset"/> — every in-sync replica holds the record (acks=all).
    /// False when this broker stopped leading first; throws <see cref="OperationCanceledException"/> at the deadline.
    /// </summary>
    public async ValueTask<bool> WaitCommittedAsync(long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Appended;
            if (HighWatermark > offset)
            {
                return true;
            }

            if (!IsLeader)
            {
                return false;
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A follower fetched from <paramref name="fetchOffset"/>: it holds everything below. Moves the high watermark and
    /// returns whether the follower, out of the ISR, has caught up to it and may join (the caller proposes the change).
    /// </summary>
    public bool RecordFollowerFetch(int follower, long fetchOffset, DateTimeOffset now)
    {
        bool mayJoin;
        lock (gate)
        {
            if (!followers.TryGetValue(follower, out var progress))
            {
                progress = new FollowerProgress { CaughtUpAt = now };
                followers[follower] = progress;
            }

            // Kafka's rule: caught up when the fetch reaches the log end now, or the log end as of its previous fetch
            // (under steady produce a follower is always a little behind the end, yet keeps up).
            var end = Log.LogEndOffset;
            if (fetchOffset >= end)
            {
                progress.CaughtUpAt = now;
            }
            else if (fetchOffset >= progress.EndAtLastFetch)
            {
                progress.CaughtUpAt = progress.LastFetchAt;
            }

            progress.FetchOffset = fetchOffset;
            progress.EndAtLastFetch = end;
            progress.LastFetchAt = now;

            var current = Role;
            mayJoin = current.Leader == Self && !current.Isr.Contains(follower) && current.Replicas.Contains(follower) && fetchOffset >= highWatermark;
            AdvanceLocked();
        }

        Signal();
        return mayJoin;
    }

    /// <summary>The in-sync followers that have not caught up to the log end for longer than <paramref name="maxLag"/>.</summary>
    public IReadOnlyList<int> LaggingFollowers(DateTimeOffset now, TimeSpan maxLag)
    {
        lock (gate)
        {
            var current = Role;
            return current.Leader != Self
                ? []
                : [.. current.Isr.Where(replica => replica != Self && (!followers.TryGetValue(replica, out var progress) || now - progress.CaughtUpAt > maxLag))];
        }
    }

    /// <summary>Takes the role the metadata gives: leader (followers' progress starts afresh) or follower.</summary>
    public void SetRole(PartitionRole next, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (gate)
        {
            var previous = role;
            if (next.Leader == Self && (previous.Leader != Self || previous.LeaderEpoch != next.LeaderEpoch))
            {
                // A new leader knows nothing of its followers yet: each is given the lag time to fetch before it may drop out.
                followers.Clear();
                foreach (var replica in next.Replicas.Where(replica => replica != Self))
                {
                    followers[replica] = new FollowerProgress { FetchOffset = -1, CaughtUpAt = now };
                }

                durableEnd = Log.LogEndOffset;
            }

            Volatile.Write(ref role, next);
            if (next.Leader == Self)
            {
                AdvanceLocked();
            }
        }

        Signal();
    }

    /// <summary>As a follower, takes the leader's high watermark (never past its own log end).</summary>
    internal void FollowHighWatermark(long leaderHighWatermark)
    {
        var target = Math.Min(leaderHighWatermark, Log.LogEndOffset);
        lock (gate)
        {
            if (target > highWatermark)
            {
                Volatile.Write(ref highWatermark, target);
            }
        }

        Signal();
    }

    /// <summary>After a truncation, the high watermark follows the log end down.</summary>
    internal void ClampHighWatermark()
    {
        lock (gate)
        {
            var end = Log.LogEndOffset;
            if (highWatermark > end)
            {
                Volatile.Write(ref highWatermark, end);
            }

            durableEnd = Math.Min(durableEnd, end);
        }
    }

    /// <summary>Wakes every fetch waiting on this partition.</summary>
    internal void Signal() => appended.Pulse();

    private void AdvanceLocked()
    {
        var current = role;
        if (current.Leader != Self)
        {
            return;
        }

        var committed = durableEnd;
        foreach (var replica in current.Isr)
        {
            if (replica != Self)
            {
                committed = Math.Min(committed, followers.TryGetValue(replica, out var progress) ? progress.FetchOffset : -1);
            }
        }

        if (committed > highWatermark)
        {
            Volatile.Write(ref highWatermark, committed);
        }
    }

    private sealed class FollowerProgress
    {
        public long FetchOffset { get; set; } = -1;

        public DateTimeOffset CaughtUpAt { get; set; }

        public long EndAtLastFetch { get; set; } = long.MaxValue;

        public DateTimeOffset LastFetchAt { get; set; }
    }
}
