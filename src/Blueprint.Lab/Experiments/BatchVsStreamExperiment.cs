using System.Diagnostics;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Confluent.Kafka;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Batch vs stream processing on a real Blueprint log (a node process, driven over the Kafka protocol by
/// Confluent.Kafka). First the producer's batching knob: linger.ms from 0 to 100 ms at a fixed rate (latency and
/// records per request) and flat out (throughput), against one record per request. Then one job — the sum of values
/// per key — run as a stream (consumed as produced, the result always current) and as a nightly-style batch (one pass
/// over everything after the fact): both must give the generator's answer exactly.
/// </summary>
public sealed class BatchVsStreamExperiment : AsyncExperiment
{
    private const string ExperimentName = "batch-vs-stream";

    /// <summary>The most records awaiting acknowledgement in a flat-out run (librdkafka queues them locally).</summary>
    private const int OutstandingMax = 10_000;

    /// <summary>The largest batch when batching is on (librdkafka's default).</summary>
    private const int BatchRecordsMax = 10_000;

    /// <summary>The linger of the job's producer: a common low-latency setting.</summary>
    private const int JobLingerMs = 5;

    private const int JobPartitions = 4;

    /// <summary>How long a consumer may take to see its first record (connect, join or assign, first fetch).</summary>
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(30);

    /// <summary>How long any one phase may take before the run is abandoned.</summary>
    private static readonly TimeSpan PhaseDeadline = TimeSpan.FromSeconds(120);

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "On the Blueprint log over Kafka's protocol: producer batching (linger.ms) buys throughput with latency; one job run as a nightly batch and as a stream gives the same answer, the stream's within milliseconds.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using LogNodeProcess node = await LogNodeProcess.StartAsync(options.Environment, CancellationToken.None).ConfigureAwait(false);
        ProgressSteps steps = new(progress, (sizes.LingersMs.Length * 2) + 2);

        // One record per request is measured flat out only: paced at the sweep's rate it could not keep up.
        Setting recordAtATime = new("1 record per request", 0, 1);
        Setting[] settings = [.. sizes.LingersMs.Select(linger => new Setting($"linger.ms={linger}", linger, BatchRecordsMax))];
        Saturated single = await ProduceFlatOutAsync(node, recordAtATime, sizes.FlatOut).ConfigureAwait(false);
        steps.Step();
        List<SweepRow> sweep = [];
        foreach (Setting setting in settings)
        {
            Saturated saturated = await ProduceFlatOutAsync(node, setting, sizes.FlatOut).ConfigureAwait(false);
            steps.Step();
            Paced paced = await ProducePacedAsync(node, setting, sizes.PacedRatePerSecond, sizes.PacedRecords).ConfigureAwait(false);
            steps.Step();
            sweep.Add(new SweepRow(setting, saturated, paced));
        }

        JobEvent[] events = JobEvent.Generate(new Random(options.Seed), sizes.JobRecords, sizes.JobKeys);
        JobRun job = await RunJobAsync(node, events, sizes.JobRatePerSecond).ConfigureAwait(false);
        steps.Step();

        return Report(sizes, recordAtATime, single, sweep, job, events);
    }

    private static async Task<Saturated> ProduceFlatOutAsync(LogNodeProcess node, Setting setting, TimeSpan duration)
    {
        string topic = $"flat-out-{setting.Topic}";
        await KafkaClients.CreateTopicAsync(node.Bootstrap, topic, 1).ConfigureAwait(false);
        ClientStatistics statistics = new();
        using IProducer<Null, byte[]> producer = KafkaClients.BuildProducer<Null>(
            KafkaClients.Producer(node.Bootstrap, setting.LingerMs, setting.BatchRecordsMax), statistics);
        // The window covers many requests in flight; one record per request needs no more than a few.
        using SemaphoreSlim window = new((int)Math.Min(OutstandingMax, setting.BatchRecordsMax * 100L));
        producer.Produce(topic, new Message<Null, byte[]> { Value = StampedRecord.Create(StampedRecord.WarmUp, 0) });
        KafkaClients.Flush(producer);
        long acknowledgedInWindow = 0, failed = 0;
        long started = Stopwatch.GetTimestamp();
        long ends = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long sequence = 0;
        while (Stopwatch.GetTimestamp() < ends)
        {
            RunInvariant.Holds(window.Wait(PhaseDeadline), $"{setting.Label}: no acknowledgement within {PhaseDeadline.TotalSeconds:F0} s");
            producer.Produce(topic, new Message<Null, byte[]> { Value = StampedRecord.Create(sequence++, 0) }, report =>
            {
                if (report.Error.IsError)
                {
                    _ = Interlocked.Increment(ref failed);
                }
                else if (Stopwatch.GetTimestamp() <= ends)
                {
                    _ = Interlocked.Increment(ref acknowledgedInWindow);
                }

                _ = window.Release();
            });
        }

        KafkaClients.Flush(producer);
        RunInvariant.Holds(Interlocked.Read(ref failed) == 0, $"{setting.Label}: {failed} records failed");
        statistics.WaitForNextReport(null, PhaseDeadline);
        return new Saturated(
            Interlocked.Read(ref acknowledgedInWindow) / duration.TotalSeconds,
            statistics.RecordsSent / (double)Math.Max(1, statistics.ProduceRequests));
    }

    private static async Task<Paced> ProducePacedAsync(LogNodeProcess node, Setting setting, double ratePerSecond, int records)
    {
        string topic = $"paced-{setting.Topic}";
        await KafkaClients.CreateTopicAsync(node.Bootstrap, topic, 1).ConfigureAwait(false);
        double[] latenciesMs = new double[records];
        using ManualResetEventSlim warmedUp = new();
        Task<long> reader = Task.Factory.StartNew(() =>
        {
            using IConsumer<string, byte[]> consumer = KafkaClients.BuildConsumer(KafkaClients.Consumer(node.Bootstrap, $"reader-{topic}"), new ClientStatistics());
            consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
            long seen = 0;
            long started = Stopwatch.GetTimestamp();
            while (seen < records && Stopwatch.GetElapsedTime(started) < PhaseDeadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Value: { } value })
                {
                    long sequence = StampedRecord.Sequence(value);
                    if (sequence == StampedRecord.WarmUp)
                    {
                        warmedUp.Set();
                    }
                    else
                    {
                        latenciesMs[sequence] = StampedRecord.AgeMs(value);
                        seen++;
                    }
                }
            }

            consumer.Close();
            return seen;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        ClientStatistics statistics = new();
        using IProducer<Null, byte[]> producer = KafkaClients.BuildProducer<Null>(
            KafkaClients.Producer(node.Bootstrap, setting.LingerMs, setting.BatchRecordsMax), statistics);
        producer.Produce(topic, new Message<Null, byte[]> { Value = StampedRecord.Create(StampedRecord.WarmUp, 0) });
        KafkaClients.Flush(producer);
        RunInvariant.Holds(warmedUp.Wait(ReadyDeadline), $"{setting.Label}: the reader saw no record within {ReadyDeadline.TotalSeconds:F0} s");
        statistics.WaitForNextReport(null, PhaseDeadline);
        long requestsBefore = statistics.ProduceRequests;
        long recordsBefore = statistics.RecordsSent;

        long failed = 0;
        long started = Stopwatch.GetTimestamp();
        Pacing.AtRate(ratePerSecond, records, sequence =>
            producer.Produce(topic, new Message<Null, byte[]> { Value = StampedRecord.Create(sequence, 0) }, report =>
            {
                if (report.Error.IsError)
                {
                    _ = Interlocked.Increment(ref failed);
                }
            }));
        KafkaClients.Flush(producer);
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long seen = await reader.WaitAsync(PhaseDeadline).ConfigureAwait(false);
        RunInvariant.Holds(Interlocked.Read(ref failed) == 0 && seen == records, $"{setting.Label}: {failed} records failed, {seen} of {records} read");
        statistics.WaitForNextReport(null, PhaseDeadline);
        return new Paced(
            records / seconds,
            (statistics.RecordsSent - recordsBefore) / (double)Math.Max(1, statistics.ProduceRequests - requestsBefore),
            Pacing.Percentile(latenciesMs, 0.50),
            Pacing.Percentile(latenciesMs, 0.99));
    }

    private static async Task<JobRun> RunJobAsync(LogNodeProcess node, JobEvent[] events, double ratePerSecond)
    {
        const string Topic = "events";
        await KafkaClients.CreateTopicAsync(node.Bootstrap, Topic, JobPartitions).ConfigureAwait(false);

        // The stream: one consumer of its own group, subscribed before the first event, updating the sums per record.
        JobSide stream = new(events.Length);
        using ManualResetEventSlim warmedUp = new();
        Task<ClientStatistics> streaming = Task.Factory.StartNew(() =>
        {
            ClientStatistics statistics = new();
            using IConsumer<string, byte[]> consumer = KafkaClients.BuildConsumer(KafkaClients.Consumer(node.Bootstrap, "stream-job"), statistics);
            consumer.Subscribe(Topic);
            long started = Stopwatch.GetTimestamp();
            while (stream.Processed < events.Length && Stopwatch.GetElapsedTime(started) < PhaseDeadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Value: { } value } result)
                {
                    if (StampedRecord.Sequence(value) == StampedRecord.WarmUp)
                    {
                        warmedUp.Set();
                    }
                    else
                    {
                        stream.Apply(result.Message.Key, value, StampedRecord.AgeMs(value));
                    }
                }
            }

            statistics.WaitForNextReport(() => consumer.Consume(TimeSpan.FromMilliseconds(20)), PhaseDeadline);
            consumer.Close();
            return statistics;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        long dayStarted, dayEnded;
        using (IProducer<string, byte[]> producer = KafkaClients.BuildProducer<string>(KafkaClients.Producer(node.Bootstrap, JobLingerMs, BatchRecordsMax), new ClientStatistics()))
        {
            // One warm-up record per partition, so the stream's group has formed and fetches every partition before the day starts.
            for (int partition = 0; partition < JobPartitions; partition++)
            {
                producer.Produce(new TopicPartition(Topic, partition), new Message<string, byte[]> { Key = "warm-up", Value = StampedRecord.Create(StampedRecord.WarmUp, 0) });
            }

            KafkaClients.Flush(producer);
            RunInvariant.Holds(warmedUp.Wait(ReadyDeadline), $"the stream job saw no record within {ReadyDeadline.TotalSeconds:F0} s");
            long failed = 0;
            dayStarted = Stopwatch.GetTimestamp();
            Pacing.AtRate(ratePerSecond, events.Length, sequence =>
                producer.Produce(Topic, new Message<string, byte[]> { Key = events[sequence].Key, Value = StampedRecord.Create(sequence, events[sequence].Value) }, report =>
                {
                    if (report.Error.IsError)
                    {
                        _ = Interlocked.Increment(ref failed);
                    }
                }));
            dayEnded = Stopwatch.GetTimestamp();
            KafkaClients.Flush(producer);
            RunInvariant.Holds(Interlocked.Read(ref failed) == 0, $"{failed} job events failed");
        }

        ClientStatistics streamStatistics = await streaming.WaitAsync(PhaseDeadline).ConfigureAwait(false);
        RunInvariant.Holds(stream.Processed == events.Length, $"the stream job processed {stream.Processed} of {events.Length} events");

        // The nightly batch: after the day, a new reader of everything in one pass; each event's result appears when it ends.
        JobSide batch = new(events.Length);
        List<byte[]> read = new(events.Length);
        ClientStatistics batchStatistics = new();
        long batchStarted = Stopwatch.GetTimestamp();
        using (IConsumer<string, byte[]> consumer = KafkaClients.BuildConsumer(KafkaClients.Consumer(node.Bootstrap, "nightly-batch"), batchStatistics))
        {
            _ = KafkaClients.ReadToEnd(consumer, Topic, JobPartitions, result =>
            {
                if (StampedRecord.Sequence(result.Message.Value) != StampedRecord.WarmUp)
                {
                    batch.Apply(result.Message.Key, result.Message.Value, 0);
                    read.Add(result.Message.Value);
                }
            }, PhaseDeadline);
            long batchEnded = Stopwatch.GetTimestamp();
            batchStatistics.WaitForNextReport(() => consumer.Consume(TimeSpan.FromMilliseconds(20)), PhaseDeadline);
            consumer.Close();
            double batchSeconds = Stopwatch.GetElapsedTime(batchStarted, batchEnded).TotalSeconds;
            double[] batchAgesMs = [.. read.Select(value => StampedRecord.AgeMs(value, batchEnded))];
            return new JobRun(stream, streamStatistics, batch, batchStatistics, batchSeconds, batchAgesMs,
                Stopwatch.GetElapsedTime(dayStarted, dayEnded), Stopwatch.GetElapsedTime(dayEnded, batchEnded));
        }
    }

    private static ExperimentResult Report(Sizes sizes, Setting recordAtATime, Saturated single, List<SweepRow> sweep, JobRun job, JobEvent[] events)
    {
        Dictionary<string, long> expected = JobEvent.Sums(events);
        SweepRow noLinger = sweep[0];
        SweepRow longest = sweep[^1];
        SweepRow fastest = sweep.MaxBy(row => row.Saturated.RecordsPerSecond)!;
        SweepRow quickest = sweep.MinBy(row => row.Paced.P50Ms)!;
        SweepRow steadiest = sweep.MinBy(row => row.Paced.P99Ms)!;
        bool noLingerQuickest = noLinger.Paced.P50Ms <= 1.1 * quickest.Paced.P50Ms && noLinger.Paced.P99Ms <= 1.1 * steadiest.Paced.P99Ms;
        double lingerMs = longest.Setting.LingerMs;
        double addedLingerMs = lingerMs - quickest.Setting.LingerMs;
        double addedP50Ms = longest.Paced.P50Ms - quickest.Paced.P50Ms;
        double expectedPerRequest = sizes.PacedRatePerSecond * lingerMs / 1000;
        bool requestsGrow = sweep.Zip(sweep.Skip(1)).All(pair => pair.Second.Paced.RecordsPerRequest >= 0.9 * pair.First.Paced.RecordsPerRequest);

        double streamP50 = Pacing.Percentile(job.Stream.AgesMs, 0.50);
        double streamP99 = Pacing.Percentile(job.Stream.AgesMs, 0.99);
        double batchP50 = Pacing.Percentile(job.BatchAgesMs, 0.50);
        double batchP50ExpectedMs = (job.Day.TotalMilliseconds / 2) + job.DayEndToBatchEnd.TotalMilliseconds;
        double streamPerFetch = job.StreamStatistics.RecordsReceived / (double)Math.Max(1, job.StreamStatistics.FetchRequests);
        double batchPerFetch = job.BatchStatistics.RecordsReceived / (double)Math.Max(1, job.BatchStatistics.FetchRequests);
        bool streamEqual = Equal(job.Stream.Sums, expected);
        bool batchEqual = Equal(job.Batch.Sums, expected);

        List<Claim> claims =
        [
            new("batching-raises-throughput", "Batching raises throughput: records sent in batches go faster than one record per request.",
                $"flat out, batches (up to {BatchRecordsMax:N0} records) ≥ 3× the records/s of one record per request: each request pays a round trip and waits for an fsync",
                $"{Fmt.Int((long)fastest.Saturated.RecordsPerSecond)}/s at {fastest.Setting.Label} ({Fmt.Num(fastest.Saturated.RecordsPerRequest, 0)} records per request) vs {Fmt.Int((long)single.RecordsPerSecond)}/s one at a time: {Fmt.Num(fastest.Saturated.RecordsPerSecond / single.RecordsPerSecond, 0)}×",
                fastest.Saturated.RecordsPerSecond >= 3 * single.RecordsPerSecond),
            new("linger-fills-batches", "A longer linger.ms packs more records into each request at the same load.",
                $"at {Fmt.Int((long)sizes.PacedRatePerSecond)} records/s a batch holds what arrives while it lingers: records per request grow with linger, ≈ rate × linger = {Fmt.Num(expectedPerRequest, 0)} at {lingerMs} ms (±50%)",
                $"{string.Join(", ", sweep.Select(row => $"{row.Setting.LingerMs} ms: {Fmt.Num(row.Paced.RecordsPerRequest, 1)}"))} records per request",
                requestsGrow && Fmt.Within(longest.Paced.RecordsPerRequest, expectedPerRequest, 0.5)),
            new("linger-costs-latency", "The price of batching is latency: lingering adds to every record's time to the consumer.",
                $"a record waits for its batch to fill its linger: from the quickest setting ({quickest.Setting.Label}) to {lingerMs} ms the median end-to-end latency grows by ≈ half the added linger = {Fmt.Num(addedLingerMs / 2, 1)} ms (between a quarter and all of it)",
                $"p50 {Fmt.Num(quickest.Paced.P50Ms, 1)} → {Fmt.Num(longest.Paced.P50Ms, 1)} ms (+{Fmt.Num(addedP50Ms, 1)} ms), p99 {Fmt.Num(quickest.Paced.P99Ms, 1)} → {Fmt.Num(longest.Paced.P99Ms, 1)} ms",
                addedP50Ms >= addedLingerMs / 4 && addedP50Ms <= addedLingerMs),
            new("no-linger-is-quickest", "Sending each record at once (linger.ms=0) gives the lowest latency.",
                "at linger.ms=0, p50 and p99 within 10% of the lowest of the sweep",
                $"linger.ms=0: p50 {Fmt.Num(noLinger.Paced.P50Ms, 1)} ms, p99 {Fmt.Num(noLinger.Paced.P99Ms, 1)} ms ({Fmt.Num(noLinger.Paced.RecordsPerRequest, 1)} records per request); lowest: p50 {Fmt.Num(quickest.Paced.P50Ms, 1)} ms ({quickest.Setting.Label}), p99 {Fmt.Num(steadiest.Paced.P99Ms, 1)} ms ({steadiest.Setting.Label})"
                    + (noLingerQuickest ? string.Empty : ". Every request waits for an fsync and a connection's requests are fsynced one after another, so many small requests queue; a little linger means fewer requests and less waiting"),
                noLingerQuickest),
            new("same-answer", "Batch and stream are two schedules of one computation: the same job gives the same answer.",
                $"the sum of values per key over {Fmt.Int(events.Length)} events equals the generator's, key for key ({expected.Count} keys), in both",
                $"stream {(streamEqual ? "equal" : "DIFFERENT")}, batch {(batchEqual ? "equal" : "DIFFERENT")}; total {Fmt.Int(job.Batch.Sums.Values.Sum())} (expected {Fmt.Int(expected.Values.Sum())})",
                streamEqual && batchEqual),
            new("batch-amortizes", "Batch processes chunks: fewer requests per record than a stream, which reads records as they trickle in.",
                "the batch reads a backlog, so each fetch returns many records; the stream's fetches return what arrived since the last one: ≥ 10× more records per fetch in the batch",
                $"batch {Fmt.Num(batchPerFetch, 0)} records per fetch ({Fmt.Int((long)(events.Length / job.BatchSeconds))} records/s, {Fmt.Num(job.BatchSeconds * 1000, 0)} ms for the day's {Fmt.Int(events.Length)}), stream {Fmt.Num(streamPerFetch, 1)} per fetch",
                batchPerFetch >= 10 * streamPerFetch),
            new("stream-is-fresh", "Stream processing has far lower time-to-result than batch.",
                $"stream: an event counts within its end-to-end latency (p99 ≤ 1 s); batch: only once the day is over, ≈ day/2 + wait and run = {Fmt.Num(batchP50ExpectedMs / 1000, 2)} s median here (a nightly job: ≈ 12 h); batch p50 ≥ 10× the stream's p99",
                $"stream p50 {Fmt.Num(streamP50, 1)} ms, p99 {Fmt.Num(streamP99, 1)} ms; batch p50 {Fmt.Num(batchP50 / 1000, 2)} s ({Fmt.Num(batchP50 / Math.Max(streamP50, 0.001), 0)}× the stream's p50)",
                streamP99 <= 1000 && batchP50 >= 10 * streamP99),
        ];

        ResultTable sweepTable = new($"Producer batching on one partition: flat out for {sizes.FlatOut.TotalSeconds:0.#} s, then paced at {Fmt.Int((long)sizes.PacedRatePerSecond)} records/s ({StampedRecord.Bytes} B records, acks=all, fsync before acknowledgement)",
            ["setting", "flat out: records/s", "flat out: records per request", "paced: records per request", "paced: p50 end-to-end ms", "paced: p99 end-to-end ms"],
            [
                [recordAtATime.Label, Fmt.Int((long)single.RecordsPerSecond), Fmt.Num(single.RecordsPerRequest, 1), "—", "—", "—"],
                .. sweep.Select(row => (IReadOnlyList<string>)[
                    row.Setting.Label,
                    Fmt.Int((long)row.Saturated.RecordsPerSecond),
                    Fmt.Num(row.Saturated.RecordsPerRequest, 1),
                    Fmt.Num(row.Paced.RecordsPerRequest, 1),
                    Fmt.Num(row.Paced.P50Ms, 2),
                    Fmt.Num(row.Paced.P99Ms, 2),
                ]),
            ]);
        ResultTable jobTable = new($"One job, sum of values per key: {Fmt.Int(events.Length)} events over {Fmt.Num(job.Day.TotalSeconds, 1)} s on {JobPartitions} partitions",
            ["schedule", "records per fetch", "time-to-result p50", "time-to-result p99", "answer"],
        [
            ["stream (consumed as produced)", Fmt.Num(streamPerFetch, 1), $"{Fmt.Num(streamP50, 1)} ms", $"{Fmt.Num(streamP99, 1)} ms", streamEqual ? "equal" : "different"],
            ["batch (one pass after the day)", Fmt.Num(batchPerFetch, 0), $"{Fmt.Num(batchP50 / 1000, 2)} s", $"{Fmt.Num(Pacing.Percentile(job.BatchAgesMs, 0.99) / 1000, 2)} s", batchEqual ? "equal" : "different"],
        ]);

        double[] lingers = [.. sweep.Select(row => (double)row.Setting.LingerMs)];
        PlotSpec plot = new("Producer linger.ms: latency at a fixed rate vs flat-out throughput", "linger.ms", "ms · thousand records/s",
        [
            new PlotSeries("p50 end-to-end latency (ms)", lingers, [.. sweep.Select(row => row.Paced.P50Ms)], Markers: true),
            new PlotSeries("p99 end-to-end latency (ms)", lingers, [.. sweep.Select(row => row.Paced.P99Ms)], Markers: true),
            new PlotSeries("flat-out throughput (thousand records/s)", lingers, [.. sweep.Select(row => row.Saturated.RecordsPerSecond / 1000)], Markers: true),
        ]);
        return new ExperimentResult(ExperimentName,
            $"A Blueprint node (log module, fsync before acknowledging) on loopback, Confluent.Kafka clients with acks=all and {StampedRecord.Bytes} B records. Latency is from the producer's send call to the consumer's receipt in the same process.",
            claims, [sweepTable, jobTable], plot);
    }

    private static bool Equal(IReadOnlyDictionary<string, long> actual, IReadOnlyDictionary<string, long> expected) =>
        actual.Count == expected.Count && expected.All(pair => actual.TryGetValue(pair.Key, out long sum) && sum == pair.Value);

    private sealed record Sizes(int[] LingersMs, TimeSpan FlatOut, double PacedRatePerSecond, int PacedRecords, double JobRatePerSecond, int JobRecords, int JobKeys)
    {
        public static Sizes Full { get; } = new([0, 1, 5, 20, 100], TimeSpan.FromSeconds(3), 2_000, 8_000, 5_000, 50_000, 100);

        public static Sizes Quick { get; } = new([0, 5, 100], TimeSpan.FromSeconds(0.5), 2_000, 1_000, 5_000, 7_500, 20);
    }

    private sealed record Setting(string Label, int LingerMs, int BatchRecordsMax)
    {
        public string Topic => $"linger-{LingerMs}-batch-{BatchRecordsMax}";
    }

    private sealed record Saturated(double RecordsPerSecond, double RecordsPerRequest);

    private sealed record Paced(double RecordsPerSecond, double RecordsPerRequest, double P50Ms, double P99Ms);

    private sealed record SweepRow(Setting Setting, Saturated Saturated, Paced Paced);

    // Day: from the first event sent to the last. DayEndToBatchEnd: from the last event sent to the batch's end.
    private sealed record JobRun(JobSide Stream, ClientStatistics StreamStatistics, JobSide Batch, ClientStatistics BatchStatistics, double BatchSeconds, double[] BatchAgesMs, TimeSpan Day, TimeSpan DayEndToBatchEnd);

    /// <summary>One event of the job: a key and a value to add to its sum.</summary>
    private sealed record JobEvent(string Key, int Value)
    {
        public static JobEvent[] Generate(Random random, int count, int keys) =>
            [.. Enumerable.Range(0, count).Select(_ => new JobEvent($"key-{random.Next(keys):D3}", random.Next(1, 1_001)))];

        public static Dictionary<string, long> Sums(IEnumerable<JobEvent> events) =>
            events.GroupBy(e => e.Key).ToDictionary(group => group.Key, group => group.Sum(e => (long)e.Value));
    }

    /// <summary>One schedule's running result: sums per key, and how old each event was when it was counted.</summary>
    private sealed class JobSide(int capacity)
    {
        private readonly Dictionary<string, long> _sums = [];
        private int _processed;

        public IReadOnlyDictionary<string, long> Sums => _sums;

        public List<double> AgesMs { get; } = new(capacity);

        public int Processed => Volatile.Read(ref _processed);

        public void Apply(string key, byte[] value, double ageMs)
        {
            _sums[key] = _sums.GetValueOrDefault(key) + StampedRecord.Value(value);
            AgesMs.Add(ageMs);
            _ = Interlocked.Increment(ref _processed);
        }
    }
}
