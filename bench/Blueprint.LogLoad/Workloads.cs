using System.Buffers.Binary;
using System.Diagnostics;
using HdrHistogram;

namespace Blueprint.LogLoad;

/// <summary>Produce, consume and end-to-end latency, the same code for every target.</summary>
internal static class Workloads
{
    /// <summary>Latencies above this are recorded as this, in microseconds.</summary>
    public const long LatencyMicrosecondsMax = 120_000_000;

    /// <summary>How long the outstanding appends may take to be acknowledged after the last one is sent.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How long a latency reader may take to see the first record (connect, assign, first fetch).</summary>
    private static readonly TimeSpan ReaderReadyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Appends one fixed payload as fast as the window allows, for the warm-up and then the measured window: the rate is
    /// the acknowledgements that arrived inside the measured window. Then waits for every outstanding append.
    /// </summary>
    public static async Task<ProduceResult> ProduceAsync(ILogClient client, LoadOptions options, CancellationToken cancellationToken)
    {
        await client.PrepareAsync(cancellationToken);
        var payload = Payload(options.RecordBytes);
        using var window = new Window(options.Window);
        var started = Stopwatch.GetTimestamp();
        var measuredFrom = started + Ticks(options.Warmup);
        var measuredTo = measuredFrom + Ticks(options.Duration);
        long ackedAtStart = options.Warmup == TimeSpan.Zero ? 0 : -1;
        long now;
        while ((now = Stopwatch.GetTimestamp()) < measuredTo)
        {
            if (ackedAtStart < 0 && now >= measuredFrom)
            {
                ackedAtStart = window.Acknowledged;
                measuredFrom = now;
            }

            await window.EnterAsync(cancellationToken);
            client.Append(payload, window.Acknowledge);
        }

        var acked = window.Acknowledged - Math.Max(ackedAtStart, 0);
        var seconds = Stopwatch.GetElapsedTime(measuredFrom, now).TotalSeconds;
        var drained = await window.DrainAsync(DrainTimeout, cancellationToken);
        return new ProduceResult(
            seconds,
            acked,
            acked / seconds,
            acked * (double)options.RecordBytes / seconds / 1e6,
            window.Acknowledged,
            window.Failed + (drained ? 0 : window.Outstanding),
            window.FirstError?.Message);
    }

    /// <summary>Reads from the topic's beginning until <see cref="LoadOptions.Records"/> have arrived; timed from the first to the last.</summary>
    public static async Task<ConsumeResult> ConsumeAsync(ILogClient client, LoadOptions options, CancellationToken cancellationToken)
    {
        await client.PrepareAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        long records = 0, bytes = 0, first = 0, last = 0;
        try
        {
            await client.ReadAsync(value =>
            {
                last = Stopwatch.GetTimestamp();
                if (records == 0)
                {
                    first = last;
                }

                records++;
                bytes += value.Length;
                return records < options.Records;
            }, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }

        var seconds = records > 1 ? Stopwatch.GetElapsedTime(first, last).TotalSeconds : 0;
        return new ConsumeResult(
            seconds,
            records,
            seconds > 0 ? (records - 1) / seconds : 0,
            seconds > 0 ? bytes / seconds / 1e6 : 0,
            records < options.Records ? $"{records} of {options.Records} records within {options.Timeout.TotalSeconds} s" : null);
    }

    /// <summary>
    /// A reader tails the topic while records are appended at a fixed rate, each carrying the time it was sent; the
    /// reader records now − sent for those sent after the warm-up. A first probe record waits out the reader's start.
    /// </summary>
    public static async Task<LatencyResult> LatencyAsync(ILogClient client, LoadOptions options, CancellationToken cancellationToken)
    {
        await client.PrepareAsync(cancellationToken);
        var histogram = new LongHistogram(LatencyMicrosecondsMax, 3);
        using var window = new Window(options.Window);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long received = 0, expected = long.MaxValue, measureFrom = long.MaxValue;
        using var stopReader = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = client.ReadAsync(value =>
        {
            var now = Stopwatch.GetTimestamp();
            var sent = BinaryPrimitives.ReadInt64LittleEndian(value.Span);
            if (sent == 0)
            {
                ready.TrySetResult();
                return true;
            }

            if (sent >= Volatile.Read(ref measureFrom))
            {
                var microseconds = (long)Stopwatch.GetElapsedTime(sent, now).TotalMicroseconds;
                histogram.RecordValue(Math.Clamp(microseconds, 1, LatencyMicrosecondsMax));
            }

            if (Interlocked.Increment(ref received) >= Volatile.Read(ref expected))
            {
                allReceived.TrySetResult();
            }

            return true;
        }, stopReader.Token);

        await window.EnterAsync(cancellationToken);
        client.Append(new byte[options.RecordBytes], window.Acknowledge);
        await ready.Task.WaitAsync(ReaderReadyTimeout, cancellationToken);

        var total = (long)(options.RatePerSecond * options.Duration.TotalSeconds);
        var periodTicks = (double)Stopwatch.Frequency / options.RatePerSecond;
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref measureFrom, started + Ticks(options.Warmup));
        for (long i = 0; i < total;)
        {
            var now = Stopwatch.GetTimestamp();
            if (now < started + (long)(i * periodTicks))
            {
                // Task.Delay sleeps about a millisecond: the records due meanwhile go out together on waking.
                await Task.Delay(1, cancellationToken);
                continue;
            }

            var payload = Payload(options.RecordBytes);
            BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
            await window.EnterAsync(cancellationToken);
            client.Append(payload, window.Acknowledge);
            i++;
        }

        var sendSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var drained = await window.DrainAsync(DrainTimeout, cancellationToken);
        Volatile.Write(ref expected, total);
        if (Interlocked.Read(ref received) >= total)
        {
            allReceived.TrySetResult();
        }

        var complete = await Task.WhenAny(allReceived.Task, Task.Delay(DrainTimeout, cancellationToken)) == allReceived.Task;
        await stopReader.CancelAsync();
        await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var count = Interlocked.Read(ref received);
        return new LatencyResult(
            options.RatePerSecond,
            total / sendSeconds,
            total,
            count,
            histogram.TotalCount,
            histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(50) : 0,
            histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(99) : 0,
            histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(99.9) : 0,
            histogram.TotalCount > 0 ? histogram.GetMaxValue() : 0,
            window.Failed + (drained ? 0 : window.Outstanding) + (complete ? 0 : total - count),
            window.FirstError?.Message ?? (complete ? null : $"{count} of {total} records read back"));
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>A record of the given size, filled from a fixed seed (incompressible enough; no target compresses here).</summary>
    private static byte[] Payload(int bytes)
    {
        var payload = new byte[bytes];
        new Random(bytes).NextBytes(payload);
        return payload;
    }
}

/// <summary>Bounds the appends sent and not yet acknowledged, and counts the outcomes.</summary>
internal sealed class Window(int size) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(size, size);
    private long _acknowledged;
    private long _failed;
    private Exception? _firstError;

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Failed => Interlocked.Read(ref _failed);

    public long Outstanding => size - _slots.CurrentCount;

    public Exception? FirstError => Volatile.Read(ref _firstError);

    public ValueTask EnterAsync(CancellationToken cancellationToken) =>
        _slots.Wait(0, CancellationToken.None) ? ValueTask.CompletedTask : new ValueTask(_slots.WaitAsync(cancellationToken));

    public void Acknowledge(Exception? error)
    {
        if (error is null)
        {
            Interlocked.Increment(ref _acknowledged);
        }
        else
        {
            Interlocked.Increment(ref _failed);
            Interlocked.CompareExchange(ref _firstError, error, null);
        }

        _slots.Release();
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>Waits until nothing is outstanding; false when the timeout passed first.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        for (var taken = 0; taken < size; taken++)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero || !await _slots.WaitAsync(left, cancellationToken))
            {
                if (taken > 0)
                {
                    _slots.Release(taken);
                }

                return false;
            }
        }

        _slots.Release(size);
        return true;
    }
}

internal sealed record ProduceResult(double Seconds, long Records, double RecordsPerSecond, double MegabytesPerSecond, long AcknowledgedTotal, long Errors, string? FirstError);

internal sealed record ConsumeResult(double Seconds, long Records, double RecordsPerSecond, double MegabytesPerSecond, string? Error);

internal sealed record LatencyResult(
    int RatePerSecond,
    double SentPerSecond,
    long Sent,
    long Received,
    long Recorded,
    long P50Microseconds,
    long P99Microseconds,
    long P999Microseconds,
    long MaxMicroseconds,
    long Errors,
    string? FirstError);
