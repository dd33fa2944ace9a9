using Blueprint.Log.Storage;

namespace Blueprint.Log.Broker;

/// <summary>One partition this broker leads: its log, its high watermark and a signal for fetches waiting on new data.</summary>
public sealed class Partition
{
    private readonly Lock gate = new();
    private TaskCompletionSource appended = NewSignal();
    private long highWatermark;

    internal Partition(Topic topic, int index, PartitionLog log)
    {
        Topic = topic;
        Index = index;
        Log = log;
        highWatermark = log.LogEndOffset;
    }

    /// <summary>The topic.</summary>
    public Topic Topic { get; }

    /// <summary>The partition number.</summary>
    public int Index { get; }

    /// <summary>The log.</summary>
    public PartitionLog Log { get; }

    /// <summary>The end of what consumers may read: everything acknowledged (on one node, appended and flushed by the policy).</summary>
    public long HighWatermark => Volatile.Read(ref highWatermark);

    /// <summary>Completes at the next append (or deletion); fetches waiting for data await it.</summary>
    public Task Appended
    {
        get
        {
            lock (gate)
            {
                return appended.Task;
            }
        }
    }

    /// <summary>Appends a produce request's batches and advances the high watermark once the append is acknowledged.</summary>
    public async ValueTask<AppendResult> AppendAsync(ReadOnlyMemory<byte> batches, CancellationToken cancellationToken)
    {
        var result = await Log.AppendAsync(batches, cancellationToken).ConfigureAwait(false);
        Advance(result.LastOffset + 1);
        return result;
    }

    /// <summary>Moves the high watermark forward (never back) and wakes waiting fetches.</summary>
    internal void Advance(long offset)
    {
        long current;
        do
        {
            current = Volatile.Read(ref highWatermark);
            if (offset <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref highWatermark, offset, current) != current);
        Signal();
    }

    /// <summary>Wakes every fetch waiting on this partition.</summary>
    internal void Signal()
    {
        TaskCompletionSource previous;
        lock (gate)
        {
            previous = appended;
            appended = NewSignal();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
