using System.Globalization;

namespace Blueprint.LogLoad;

/// <summary>What a run talks to.</summary>
internal enum Target
{
    /// <summary>A broker on the Kafka wire protocol, through Confluent.Kafka (librdkafka).</summary>
    Kafka,

    /// <summary>A Redis stream: XADD, XREAD.</summary>
    Redis,

    /// <summary>A NATS JetStream stream: acknowledged publishes, a pull consumer.</summary>
    Nats,

    /// <summary>The file system itself: writes and fsyncs, no server.</summary>
    Disk,
}

/// <summary>What a run measures against a log.</summary>
internal enum Mode
{
    /// <summary>Appends as fast as the in-flight window lets, for a warm-up and then a measured window.</summary>
    Produce,

    /// <summary>Reads a topic from its beginning until a given number of records has arrived.</summary>
    Consume,

    /// <summary>Appends at a fixed rate while a reader tails the topic; the time from send to receipt.</summary>
    Latency,
}

/// <summary>
/// A run's command line, validated as a whole: <see cref="Parse"/> reports every problem at once in one
/// <see cref="FormatException"/> message.
/// </summary>
internal sealed record LoadOptions
{
    /// <summary>Length of a measured run at most.</summary>
    public const int SecondsMax = 3_600;

    /// <summary>Record size at most, in bytes (under every target's default message limit of 1 MB).</summary>
    public const int RecordBytesMax = 512 << 10;

    /// <summary>Unacknowledged appends at most.</summary>
    public const int WindowMax = 1_000_000;

    /// <summary>Records asked for in one read at most.</summary>
    public const int FetchRecordsMax = 100_000;

    /// <summary>Latency-mode rate at most, records per second.</summary>
    public const int RateMax = 1_000_000;

    /// <summary>The latency payload starts with an 8-byte send timestamp.</summary>
    public const int LatencyRecordBytesMin = 8;

    public const string Usage =
        "usage: Blueprint.LogLoad TARGET [MODE] [flags]\n" +
        "  kafka|redis|nats produce --server HOST:PORT --topic NAME [--record-bytes 100] [--seconds 10] [--warmup-seconds 2] [--window 8192] [--linger-ms 5]\n" +
        "  kafka|redis|nats consume --server HOST:PORT --topic NAME --records N [--record-bytes 100] [--fetch-records 1000] [--timeout-seconds 120]\n" +
        "  kafka|redis|nats latency --server HOST:PORT --topic NAME [--rate 5000] [--record-bytes 100] [--seconds 20] [--warmup-seconds 2] [--window 8192] [--linger-ms 5] [--fetch-records 1000]\n" +
        "  disk --dir DIR [--seconds 6] [--record-bytes 100]   1 MiB writes + fsync each; small appends + fsync / fdatasync each\n" +
        "  TOPIC is a Kafka topic (one partition), a Redis stream key, or a JetStream stream (subject = its name).";

    public required Target Target { get; init; }

    public Mode Mode { get; init; }

    public string Server { get; init; } = "";

    public string Topic { get; init; } = "";

    public string Directory { get; init; } = "";

    public int RecordBytes { get; init; } = 100;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Appends sent and not yet acknowledged at most, on every target alike.</summary>
    public int Window { get; init; } = 8192;

    /// <summary>Kafka only: how long the producer waits to fill a batch (linger.ms).</summary>
    public int LingerMilliseconds { get; init; } = 5;

    /// <summary>Records asked for per read (XREAD COUNT, the pull consumer's batch); Kafka's client sizes its own fetches.</summary>
    public int FetchRecords { get; init; } = 1000;

    /// <summary>Consume: the records to read before the run ends.</summary>
    public long Records { get; init; }

    public int RatePerSecond { get; init; } = 5000;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    private static readonly Dictionary<string, Target> Targets = new(StringComparer.Ordinal)
    {
        ["kafka"] = Target.Kafka,
        ["redis"] = Target.Redis,
        ["nats"] = Target.Nats,
        ["disk"] = Target.Disk,
    };

    private static readonly Dictionary<string, Mode> Modes = new(StringComparer.Ordinal)
    {
        ["produce"] = Mode.Produce,
        ["consume"] = Mode.Consume,
        ["latency"] = Mode.Latency,
    };

    /// <summary>Parses and validates; throws <see cref="FormatException"/> naming every problem.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || !Targets.TryGetValue(args[0], out var target))
        {
            throw new FormatException(args.Count == 0
                ? "a target is required: kafka, redis, nats or disk"
                : $"unknown target '{args[0]}': expected kafka, redis, nats or disk");
        }

        var first = 1;
        var mode = Mode.Produce;
        if (target != Target.Disk)
        {
            if (args.Count < 2 || !Modes.TryGetValue(args[1], out mode))
            {
                throw new FormatException($"{args[0]} needs a mode: produce, consume or latency");
            }

            first = 2;
        }

        var allowed = AllowedFlags(target, mode);
        var errors = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = first; i < args.Count; i++)
        {
            var flag = args[i];
            if (!allowed.Contains(flag))
            {
                errors.Add($"unknown flag '{flag}' for {string.Join(' ', args.Take(first))}");
                if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    i++;
                }

                continue;
            }

            if (i + 1 >= args.Count)
            {
                errors.Add($"{flag} needs a value");
                break;
            }

            if (!values.TryAdd(flag, args[++i]))
            {
                errors.Add($"{flag} is given twice");
            }
        }

        var defaultSeconds = target == Target.Disk ? 6 : mode == Mode.Latency ? 20 : 10;
        var options = new LoadOptions
        {
            Target = target,
            Mode = mode,
            Server = values.GetValueOrDefault("--server", ""),
            Topic = values.GetValueOrDefault("--topic", ""),
            Directory = values.GetValueOrDefault("--dir", ""),
            RecordBytes = (int)Integer(values, "--record-bytes", 100, 1, RecordBytesMax, errors),
            Duration = TimeSpan.FromSeconds(Integer(values, "--seconds", defaultSeconds, 1, SecondsMax, errors)),
            Warmup = TimeSpan.FromSeconds(Integer(values, "--warmup-seconds", 2, 0, SecondsMax, errors)),
            Window = (int)Integer(values, "--window", 8192, 1, WindowMax, errors),
            LingerMilliseconds = (int)Integer(values, "--linger-ms", 5, 0, 1000, errors),
            FetchRecords = (int)Integer(values, "--fetch-records", 1000, 1, FetchRecordsMax, errors),
            Records = Integer(values, "--records", 0, 1, long.MaxValue, errors),
            RatePerSecond = (int)Integer(values, "--rate", 5000, 1, RateMax, errors),
            Timeout = TimeSpan.FromSeconds(Integer(values, "--timeout-seconds", 120, 1, SecondsMax, errors)),
        };

        if (target == Target.Disk)
        {
            if (options.Directory.Length == 0)
            {
                errors.Add("disk needs --dir DIR (on the file system under test)");
            }
        }
        else
        {
            if (options.Server.Length == 0)
            {
                errors.Add("--server HOST:PORT is required");
            }

            if (options.Topic.Length == 0 || !options.Topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                errors.Add($"--topic is required, of ASCII letters, digits, '-' and '_' (every target accepts those), got '{options.Topic}'");
            }

            if (mode == Mode.Consume && !values.ContainsKey("--records"))
            {
                errors.Add("consume needs --records N: the records to read before it stops");
            }

            if (mode == Mode.Latency && options.RecordBytes < LatencyRecordBytesMin)
            {
                errors.Add($"latency needs --record-bytes of at least {LatencyRecordBytesMin} (the send timestamp)");
            }

            if (mode == Mode.Latency && options.Warmup >= options.Duration)
            {
                errors.Add("latency's --warmup-seconds is part of --seconds and must be shorter");
            }
        }

        return errors.Count == 0 ? options : throw new FormatException(string.Join("; ", errors));
    }

    private static HashSet<string> AllowedFlags(Target target, Mode mode)
    {
        if (target == Target.Disk)
        {
            return new(["--dir", "--seconds", "--record-bytes"], StringComparer.Ordinal);
        }

        var allowed = new HashSet<string>(["--server", "--topic", "--record-bytes"], StringComparer.Ordinal);
        switch (mode)
        {
            case Mode.Produce:
                allowed.UnionWith(["--seconds", "--warmup-seconds", "--window", "--linger-ms"]);
                break;
            case Mode.Consume:
                allowed.UnionWith(["--records", "--fetch-records", "--timeout-seconds"]);
                break;
            case Mode.Latency:
                allowed.UnionWith(["--rate", "--seconds", "--warmup-seconds", "--window", "--linger-ms", "--fetch-records"]);
                break;
        }

        return allowed;
    }

    private static long Integer(Dictionary<string, string> values, string flag, long fallback, long min, long max, List<string> errors)
    {
        if (!values.TryGetValue(flag, out var text))
        {
            return fallback;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add($"{flag} must be an integer in {min}..{max}, got '{text}'");
        return fallback;
    }
}
