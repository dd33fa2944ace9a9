using System.Globalization;

namespace Blueprint.EtcdLoad;

/// <summary>The workload a run drives.</summary>
internal enum Workload
{
    /// <summary>Every member answers Maintenance.Status and agrees on a leader; prints the leader.</summary>
    Status,

    /// <summary>Put to the leader, closed loop.</summary>
    Put,

    /// <summary>Range of one key, spread over every endpoint.</summary>
    Range,

    /// <summary>Uncontended lock acquire and release: Txn(create_revision == 0 → Put with lease), DeleteRange.</summary>
    Lock,

    /// <summary>Kill -9 the leader while writing through every endpoint; the time to the first acknowledged Put.</summary>
    Failover,
}

/// <summary>
/// A run's command line, validated as a whole: <see cref="Parse"/> reports every problem at once in one
/// <see cref="FormatException"/> message.
/// </summary>
internal sealed record LoadOptions
{
    /// <summary>Concurrent clients at most.</summary>
    public const int ClientsMax = 10_000;

    /// <summary>Channels (one HTTP/2 connection each) per endpoint at most.</summary>
    public const int ConnectionsMax = 1_000;

    /// <summary>Length of one measured run at most.</summary>
    public const int SecondsMax = 3_600;

    /// <summary>Key size at most, in bytes.</summary>
    public const int KeySizeBytesMax = 1_024;

    /// <summary>Value size at most, in bytes (etcd's default request limit is 1.5 MiB).</summary>
    public const int ValueSizeBytesMax = 1 << 20;

    /// <summary>Per-RPC deadline at most, in milliseconds.</summary>
    public const int DeadlineMillisecondsMax = 60_000;

    /// <summary>Endpoints at most.</summary>
    public const int EndpointsMax = 16;

    public const string Usage =
        "usage: Blueprint.EtcdLoad COMMAND --endpoints HOST:PORT[,HOST:PORT…] [flags]\n" +
        "  status   [--wait-seconds 30]                          wait for every member and one leader; print it\n" +
        "  put      [--clients 1] [--conns 1] [--seconds 10] [--warmup-seconds 1] [--key-size 8] [--val-size 256]\n" +
        "  range    --linearizable|--serializable [--clients 1] [--conns 1] [--seconds 10] [--warmup-seconds 1] [--key-size 8] [--val-size 256]\n" +
        "  lock     [--clients 1] [--conns 1] [--seconds 10] [--warmup-seconds 1]\n" +
        "  failover --pid-map FILE [--interval-ms 10] [--timeout-seconds 60]   FILE: lines 'ENDPOINT PID'\n" +
        "  every command: [--deadline-ms 5000 (failover: 200)]";

    public required Workload Workload { get; init; }

    public required IReadOnlyList<Uri> Endpoints { get; init; }

    public int Clients { get; init; } = 1;

    public int Connections { get; init; } = 1;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public int KeySizeBytes { get; init; } = 8;

    public int ValueSizeBytes { get; init; } = 256;

    /// <summary>Range only: a linearizable read (through the leader's read index) or a serializable one (local).</summary>
    public bool Linearizable { get; init; } = true;

    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string? PidMapPath { get; init; }

    public TimeSpan WriteInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan FailoverTimeout { get; init; } = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, Workload> Commands = new(StringComparer.Ordinal)
    {
        ["status"] = Workload.Status,
        ["put"] = Workload.Put,
        ["range"] = Workload.Range,
        ["lock"] = Workload.Lock,
        ["failover"] = Workload.Failover,
    };

    private static readonly string[] LoadFlags = ["--clients", "--conns", "--seconds", "--warmup-seconds"];
    private static readonly string[] DataFlags = ["--key-size", "--val-size"];

    /// <summary>Parses and validates; throws <see cref="FormatException"/> naming every problem.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || !Commands.TryGetValue(args[0], out var workload))
        {
            throw new FormatException(args.Count == 0
                ? "a command is required: status, put, range, lock or failover"
                : $"unknown command '{args[0]}': expected status, put, range, lock or failover");
        }

        var allowed = new HashSet<string>(["--endpoints", "--deadline-ms"], StringComparer.Ordinal);
        switch (workload)
        {
            case Workload.Status:
                allowed.Add("--wait-seconds");
                break;
            case Workload.Put:
                allowed.UnionWith(LoadFlags);
                allowed.UnionWith(DataFlags);
                break;
            case Workload.Range:
                allowed.UnionWith(LoadFlags);
                allowed.UnionWith(DataFlags);
                break;
            case Workload.Lock:
                allowed.UnionWith(LoadFlags);
                break;
            case Workload.Failover:
                allowed.UnionWith(["--pid-map", "--interval-ms", "--timeout-seconds"]);
                break;
        }

        var errors = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        bool? linearizable = null;
        for (var i = 1; i < args.Count; i++)
        {
            var flag = args[i];
            if (workload == Workload.Range && flag is "--linearizable" or "--serializable")
            {
                if (linearizable is not null)
                {
                    errors.Add("give one of --linearizable and --serializable, once");
                }

                linearizable = flag == "--linearizable";
                continue;
            }

            if (!allowed.Contains(flag))
            {
                errors.Add($"unknown flag '{flag}' for {args[0]}");
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

        if (workload == Workload.Range && linearizable is null)
        {
            errors.Add("range needs --linearizable or --serializable");
        }

        var endpoints = ParseEndpoints(values.GetValueOrDefault("--endpoints"), errors);
        var defaultDeadlineMilliseconds = workload == Workload.Failover ? 200 : 5_000;
        var options = new LoadOptions
        {
            Workload = workload,
            Endpoints = endpoints,
            Clients = Integer(values, "--clients", 1, 1, ClientsMax, errors),
            Connections = Integer(values, "--conns", 1, 1, ConnectionsMax, errors),
            Duration = TimeSpan.FromSeconds(Integer(values, "--seconds", 10, 1, SecondsMax, errors)),
            Warmup = TimeSpan.FromSeconds(Integer(values, "--warmup-seconds", 1, 0, SecondsMax, errors)),
            KeySizeBytes = Integer(values, "--key-size", 8, 1, KeySizeBytesMax, errors),
            ValueSizeBytes = Integer(values, "--val-size", 256, 0, ValueSizeBytesMax, errors),
            Linearizable = linearizable ?? true,
            Deadline = TimeSpan.FromMilliseconds(Integer(values, "--deadline-ms", defaultDeadlineMilliseconds, 1, DeadlineMillisecondsMax, errors)),
            WaitTimeout = TimeSpan.FromSeconds(Integer(values, "--wait-seconds", 30, 1, SecondsMax, errors)),
            PidMapPath = values.GetValueOrDefault("--pid-map"),
            WriteInterval = TimeSpan.FromMilliseconds(Integer(values, "--interval-ms", 10, 1, 10_000, errors)),
            FailoverTimeout = TimeSpan.FromSeconds(Integer(values, "--timeout-seconds", 60, 1, SecondsMax, errors)),
        };

        if (workload == Workload.Failover)
        {
            if (options.PidMapPath is null)
            {
                errors.Add("failover needs --pid-map FILE (lines 'ENDPOINT PID')");
            }

            if (endpoints.Count < 3)
            {
                errors.Add("failover needs at least 3 endpoints, so a majority survives the leader");
            }
        }

        if (options.Connections > options.Clients && workload is Workload.Put or Workload.Range or Workload.Lock)
        {
            errors.Add($"--conns {options.Connections} is more than --clients {options.Clients}: some connections would carry nothing");
        }

        return errors.Count == 0 ? options : throw new FormatException(string.Join("; ", errors));
    }

    private static List<Uri> ParseEndpoints(string? text, List<string> errors)
    {
        var endpoints = new List<Uri>();
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add("--endpoints HOST:PORT[,HOST:PORT…] is required");
            return endpoints;
        }

        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (EndpointParser.TryParse(part, out var uri))
            {
                if (endpoints.Contains(uri))
                {
                    errors.Add($"endpoint '{part}' is given twice");
                }

                endpoints.Add(uri);
            }
            else
            {
                errors.Add($"endpoint '{part}' is not HOST:PORT or http://HOST:PORT");
            }
        }

        if (endpoints.Count > EndpointsMax)
        {
            errors.Add($"{endpoints.Count} endpoints is more than {EndpointsMax}");
        }

        return endpoints;
    }

    private static int Integer(Dictionary<string, string> values, string flag, int fallback, int min, int max, List<string> errors)
    {
        if (!values.TryGetValue(flag, out var text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add($"{flag} must be an integer in {min}..{max}, got '{text}'");
        return fallback;
    }
}
