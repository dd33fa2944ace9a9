using System.Globalization;
using Blueprint.Bench;

namespace Blueprint.NotifyLoad;

/// <summary>
/// A run's command line, validated as a whole: <see cref="Parse"/> reports every problem at once in one
/// <see cref="FormatException"/> message.
/// </summary>
internal sealed record LoadOptions
{
    /// <summary>Publish rate at most, messages per second.</summary>
    public const int RateMax = 1_000_000;

    /// <summary>Length of a measured run at most, in seconds.</summary>
    public const int SecondsMax = 3_600;

    /// <summary>Publishes in flight at most.</summary>
    public const int ConcurrencyMax = 4_096;

    /// <summary>The command line's help.</summary>
    public const string Usage =
        "usage: Blueprint.NotifyLoad --mode pipeline|floor [--node HOST:PORT --sns HOST:PORT] [--rate 0] [--seconds 20]\n" +
        "                            [--warmup-seconds 3] [--drain-seconds 10] [--concurrency 64] [--topic bench-notify]\n" +
        "  Starts a webhook receiver on 127.0.0.1 (a free port) that records each arrival. pipeline: creates TOPIC and an\n" +
        "  http subscription with raw delivery to the receiver on the node's SNS API (--sns), confirms it, then publishes\n" +
        "  through POST /api/notify/topics/TOPIC/messages on the node's HTTP port (--node). floor: POSTs the same messages\n" +
        "  to the receiver directly. --rate 0 runs flat out with CONCURRENCY requests in flight; a rate paces them (at most\n" +
        "  CONCURRENCY in flight). Each message carries its sequence number and send time. Prints one JSON line:\n" +
        "  deliveries/s, p50/p99 latency from send to arrival of the messages sent in the measured window, missing ones and\n" +
        "  duplicates.";

    /// <summary>pipeline or floor.</summary>
    public string Mode { get; init; } = "";

    /// <summary>The node's HTTP endpoint (pipeline).</summary>
    public Uri? Node { get; init; }

    /// <summary>The node's SNS endpoint (pipeline).</summary>
    public Uri? Sns { get; init; }

    /// <summary>Messages per second, or 0 for flat out.</summary>
    public int Rate { get; init; }

    /// <summary>How long the measured window lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long the publishers run before the measured window.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long the run waits after the last publish for deliveries still on their way.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests in flight at most.</summary>
    public int Concurrency { get; init; } = 64;

    /// <summary>The topic's name (pipeline).</summary>
    public string Topic { get; init; } = "bench-notify";

    /// <summary>Parses the command line.</summary>
    /// <exception cref="FormatException">Every problem found, in one message.</exception>
    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        var problems = new List<string>();
        foreach (var (flag, value) in Flags.Pairs(args, problems))
        {
            switch (flag)
            {
                case "--mode":
                    options = options with { Mode = value };
                    break;
                case "--node":
                    options = options with { Node = Endpoint(flag, value, problems) };
                    break;
                case "--sns":
                    options = options with { Sns = Endpoint(flag, value, problems) };
                    break;
                case "--rate":
                    options = options with { Rate = Flags.Number(flag, value, 0, RateMax, problems) };
                    break;
                case "--seconds":
                    options = options with { Duration = TimeSpan.FromSeconds(Flags.Number(flag, value, 1, SecondsMax, problems)) };
                    break;
                case "--warmup-seconds":
                    options = options with { Warmup = TimeSpan.FromSeconds(Flags.Number(flag, value, 0, SecondsMax, problems)) };
                    break;
                case "--drain-seconds":
                    options = options with { Drain = TimeSpan.FromSeconds(Flags.Number(flag, value, 0, SecondsMax, problems)) };
                    break;
                case "--concurrency":
                    options = options with { Concurrency = Flags.Number(flag, value, 1, ConcurrencyMax, problems) };
                    break;
                case "--topic":
                    options = options with { Topic = value };
                    if (value.Length is 0 or > 256 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                    {
                        problems.Add("--topic must be 1 to 256 letters, digits, '-' or '_'");
                    }

                    break;
                default:
                    problems.Add($"unknown flag {flag}");
                    break;
            }
        }

        switch (options.Mode)
        {
            case "pipeline" when options.Node is null || options.Sns is null:
                problems.Add("--mode pipeline needs --node HOST:PORT and --sns HOST:PORT");
                break;
            case "pipeline" or "floor":
                break;
            default:
                problems.Add("--mode pipeline or --mode floor is required");
                break;
        }

        return problems.Count == 0 ? options : throw new FormatException(string.Join("; ", problems));
    }

    private static Uri? Endpoint(string flag, string value, List<string> problems)
    {
        if (Flags.HostPort(value) is var (host, port))
        {
            return new Uri($"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/");
        }

        problems.Add($"{flag} must be HOST:PORT, got '{value}'");
        return null;
    }
}
