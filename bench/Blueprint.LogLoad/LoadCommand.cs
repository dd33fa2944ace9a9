using System.Text;
using System.Text.Json;

namespace Blueprint.LogLoad;

/// <summary>
/// Runs one command and prints one JSON line on stdout. Exit codes: 0 done (the line's "errors" says whether every
/// append and read succeeded), 1 the target failed the run (refused a connection, a topic, a stream), 2 bad input.
/// </summary>
internal static class LoadCommand
{
    private const string Name = "Blueprint.LogLoad";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help" or "-h" or "help", ..])
        {
            Console.WriteLine(LoadOptions.Usage);
            return 0;
        }

        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"{Name}: {e.Message} (see {Name} --help)");
            return 2;
        }

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };

        try
        {
            if (options.Target == Target.Disk)
            {
                PrintDisk(DiskLimit.Run(options));
                return 0;
            }

            await using ILogClient client = options.Target switch
            {
                Target.Kafka => new KafkaLogClient(options),
                Target.Redis => new RedisStreamClient(options),
                _ => new NatsStreamClient(options),
            };
            switch (options.Mode)
            {
                case Mode.Produce:
                    Print(options, await Workloads.ProduceAsync(client, options, interrupted.Token));
                    break;
                case Mode.Consume:
                    Print(options, await Workloads.ConsumeAsync(client, options, interrupted.Token));
                    break;
                default:
                    Print(options, await Workloads.LatencyAsync(client, options, interrupted.Token));
                    break;
            }

            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException || !interrupted.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"{Name}: {args[0]} {(options.Target == Target.Disk ? "" : args[1] + " ")}failed: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    private static void Print(LoadOptions options, ProduceResult result) => Write(json =>
    {
        Header(json, options);
        json.WriteNumber("window", options.Window);
        if (options.Target == Target.Kafka)
        {
            json.WriteNumber("linger_ms", options.LingerMilliseconds);
        }

        json.WriteNumber("seconds", Math.Round(result.Seconds, 3));
        json.WriteNumber("records", result.Records);
        json.WriteNumber("records_per_s", Math.Round(result.RecordsPerSecond, 1));
        json.WriteNumber("mb_per_s", Math.Round(result.MegabytesPerSecond, 2));
        json.WriteNumber("acked_total", result.AcknowledgedTotal);
        json.WriteNumber("errors", result.Errors);
        json.WriteString("first_error", result.FirstError);
    });

    private static void Print(LoadOptions options, ConsumeResult result) => Write(json =>
    {
        Header(json, options);
        json.WriteNumber("fetch_records", options.FetchRecords);
        json.WriteNumber("seconds", Math.Round(result.Seconds, 3));
        json.WriteNumber("records", result.Records);
        json.WriteNumber("records_per_s", Math.Round(result.RecordsPerSecond, 1));
        json.WriteNumber("mb_per_s", Math.Round(result.MegabytesPerSecond, 2));
        json.WriteNumber("errors", result.Error is null ? 0 : 1);
        json.WriteString("first_error", result.Error);
    });

    private static void Print(LoadOptions options, LatencyResult result) => Write(json =>
    {
        Header(json, options);
        if (options.Target == Target.Kafka)
        {
            json.WriteNumber("linger_ms", options.LingerMilliseconds);
        }

        json.WriteNumber("rate", result.RatePerSecond);
        json.WriteNumber("sent_per_s", Math.Round(result.SentPerSecond, 1));
        json.WriteNumber("sent", result.Sent);
        json.WriteNumber("received", result.Received);
        json.WriteNumber("recorded", result.Recorded);
        json.WriteNumber("p50_us", result.P50Microseconds);
        json.WriteNumber("p99_us", result.P99Microseconds);
        json.WriteNumber("p999_us", result.P999Microseconds);
        json.WriteNumber("max_us", result.MaxMicroseconds);
        json.WriteNumber("errors", result.Errors);
        json.WriteString("first_error", result.FirstError);
    });

    private static void PrintDisk(DiskResult result) => Write(json =>
    {
        json.WriteString("target", "disk");
        json.WriteNumber("sequential_1mib_fsync_mb_per_s", Math.Round(result.SequentialFsyncMegabytesPerSecond, 1));
        json.WriteNumber("sequential_1mib_fsync_p50_us", result.SequentialFsyncP50Microseconds);
        json.WriteNumber("append_fsync_per_s", Math.Round(result.AppendFsyncPerSecond, 1));
        json.WriteNumber("append_fsync_p50_us", result.AppendFsyncP50Microseconds);
        json.WriteNumber("append_fsync_p99_us", result.AppendFsyncP99Microseconds);
        json.WriteNumber("append_fdatasync_per_s", Math.Round(result.AppendFdatasyncPerSecond, 1));
        json.WriteNumber("append_fdatasync_p50_us", result.AppendFdatasyncP50Microseconds);
        json.WriteNumber("append_fdatasync_p99_us", result.AppendFdatasyncP99Microseconds);
    });

    private static void Header(Utf8JsonWriter json, LoadOptions options)
    {
        json.WriteString("target", options.Target.ToString().ToLowerInvariant());
        json.WriteString("mode", options.Mode.ToString().ToLowerInvariant());
        json.WriteString("topic", options.Topic);
        json.WriteNumber("record_bytes", options.RecordBytes);

        // The whole process, warm-up and connection set-up included: the client's share of the two cores.
        json.WriteNumber("client_cpu_s", Math.Round(Environment.CpuUsage.TotalTime.TotalSeconds, 3));
    }

    private static void Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        Console.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
