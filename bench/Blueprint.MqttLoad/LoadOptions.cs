using System.Globalization;
using Blueprint.Bench;

namespace Blueprint.MqttLoad;

/// <summary>
/// A run's command line, validated as a whole: <see cref="Parse"/> reports every problem at once in one
/// <see cref="FormatException"/> message.
/// </summary>
internal sealed record LoadOptions
{
    /// <summary>Subscribers at most.</summary>
    public const int SubscribersMax = 1_000;

    /// <summary>Publish rate at most, messages per second.</summary>
    public const int RateMax = 1_000_000;

    /// <summary>Length of a measured run at most, in seconds.</summary>
    public const int SecondsMax = 3_600;

    /// <summary>Payload size at most, in bytes.</summary>
    public const int PayloadBytesMax = 256 << 10;

    /// <summary>The payload starts with the publisher's 8-byte send timestamp.</summary>
    public const int PayloadBytesMin = 8;

    /// <summary>Unacknowledged publishes at most.</summary>
    public const int WindowMax = 65_535;

    /// <summary>The command line's help.</summary>
    public const string Usage =
        "usage: Blueprint.MqttLoad --server HOST:PORT [--subscribers 10] [--qos 0|1] [--rate 0] [--payload-bytes 64]\n" +
        "                          [--seconds 5] [--warmup-seconds 2] [--window 256] [--topic bench/fanout] [--mqtt 3|5]\n" +
        "  One publisher and SUBSCRIBERS subscribers on TOPIC, each its own connection. --rate 0 publishes flat out (WINDOW\n" +
        "  publishes in flight: QoS 1 ones unacknowledged, QoS 0 ones not yet written); a rate paces the publisher. Each\n" +
        "  payload starts with its send time; subscribers record the time to receipt. Prints one JSON line: deliveries/s\n" +
        "  (fan-out: every subscriber's receipt counts) and p50/p99 latency of the messages sent in the measured window.";

    /// <summary>The broker, as <c>host:port</c>.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The broker's port.</summary>
    public int Port { get; init; }

    /// <summary>How many subscribers.</summary>
    public int Subscribers { get; init; } = 10;

    /// <summary>The QoS of publishes and subscriptions (0 or 1).</summary>
    public int Qos { get; init; }

    /// <summary>Messages per second, or 0 for flat out.</summary>
    public int Rate { get; init; }

    /// <summary>The payload's size in bytes.</summary>
    public int PayloadBytes { get; init; } = 64;

    /// <summary>How long the measured window lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the publisher runs before the measured window.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Publishes in flight at most.</summary>
    public int Window { get; init; } = 256;

    /// <summary>The topic every client uses.</summary>
    public string Topic { get; init; } = "bench/fanout";

    /// <summary>The MQTT version: 3 (3.1.1) or 5.</summary>
    public int MqttVersion { get; init; } = 3;

    /// <summary>Parses the command line.</summary>
    /// <exception cref="FormatException">Every problem found, in one message.</exception>
    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        var problems = new List<string>();
        var server = "";
        foreach (var (flag, value) in Flags.Pairs(args, problems))
        {
            switch (flag)
            {
                case "--server":
                    server = value;
                    break;
                case "--subscribers":
                    options = options with { Subscribers = Flags.Number(flag, value, 1, SubscribersMax, problems) };
                    break;
                case "--qos":
                    options = options with { Qos = Flags.Number(flag, value, 0, 1, problems) };
                    break;
                case "--rate":
                    options = options with { Rate = Flags.Number(flag, value, 0, RateMax, problems) };
                    break;
                case "--payload-bytes":
                    options = options with { PayloadBytes = Flags.Number(flag, value, PayloadBytesMin, PayloadBytesMax, problems) };
                    break;
                case "--seconds":
                    options = options with { Duration = TimeSpan.FromSeconds(Flags.Number(flag, value, 1, SecondsMax, problems)) };
                    break;
                case "--warmup-seconds":
                    options = options with { Warmup = TimeSpan.FromSeconds(Flags.Number(flag, value, 0, SecondsMax, problems)) };
                    break;
                case "--window":
                    options = options with { Window = Flags.Number(flag, value, 1, WindowMax, problems) };
                    break;
                case "--topic":
                    options = options with { Topic = value };
                    if (value.Length == 0 || value.AsSpan().IndexOfAny('+', '#') >= 0)
                    {
                        problems.Add("--topic must be a topic name without wildcards");
                    }

                    break;
                case "--mqtt":
                    options = options with { MqttVersion = Flags.Number(flag, value, 3, 5, problems) };
                    if (options.MqttVersion == 4)
                    {
                        problems.Add("--mqtt is 3 (3.1.1) or 5");
                    }

                    break;
                default:
                    problems.Add($"unknown flag {flag}");
                    break;
            }
        }

        if (Flags.HostPort(server) is var (host, port))
        {
            options = options with { Host = host, Port = port };
        }
        else
        {
            problems.Add("--server HOST:PORT is required");
        }

        return problems.Count == 0 ? options : throw new FormatException(string.Join("; ", problems));
    }
}
