using System.Text;
using System.Text.Json;
using Blueprint.Bench;

namespace Blueprint.MqttLoad;

/// <summary>
/// Runs the load and prints one JSON line on stdout. Exit codes: 0 done (the line's "errors" says whether every publish
/// succeeded), 1 the broker failed the run (refused a connection or a subscription), 2 bad input.
/// </summary>
internal static class LoadCommand
{
    private const string Name = "Blueprint.MqttLoad";

    /// <summary>Parses <paramref name="args"/>, runs, prints; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args) =>
        LoadMain.RunAsync(
            Name,
            LoadOptions.Usage,
            args,
            LoadOptions.Parse,
            async (options, cancellationToken) => Line(options, await FanOut.RunAsync(options, cancellationToken).ConfigureAwait(false)),
            options => $"the run against {options.Host}:{options.Port}");

    private static string Line(LoadOptions options, FanOutResult result)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("server", $"{options.Host}:{options.Port}");
            json.WriteNumber("mqtt", options.MqttVersion);
            json.WriteNumber("qos", options.Qos);
            json.WriteNumber("subscribers", options.Subscribers);
            json.WriteNumber("rate", options.Rate);
            json.WriteNumber("window", options.Window);
            json.WriteNumber("payload_bytes", options.PayloadBytes);
            json.WriteNumber("seconds", options.Duration.TotalSeconds);
            json.WriteNumber("published", result.Published);
            json.WriteNumber("publishes_per_s", Math.Round(result.PublishesPerSecond, 1));
            json.WriteNumber("expected", result.Expected);
            json.WriteNumber("delivered", result.Delivered);
            json.WriteNumber("deliveries_per_s", Math.Round(result.DeliveriesPerSecond, 1));
            json.WriteNumber("p50_us", result.P50Microseconds);
            json.WriteNumber("p99_us", result.P99Microseconds);
            json.WriteNumber("max_us", result.MaxMicroseconds);
            json.WriteNumber("errors", result.Errors);
            json.WriteString("first_error", result.FirstError);

            // The whole process, connection set-up included: the client's share of the two cores.
            json.WriteNumber("client_cpu_s", Math.Round(Environment.CpuUsage.TotalTime.TotalSeconds, 3));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
