using System.Text;
using System.Text.Json;
using Blueprint.Bench;
using HdrHistogram;

namespace Blueprint.NotifyLoad;

/// <summary>
/// Runs the load and prints one JSON line on stdout. Exit codes: 0 done (the line's "errors" says whether every request
/// succeeded), 1 the run failed (the receiver did not start, the node refused the topic or the subscription), 2 bad input.
/// </summary>
internal static class LoadCommand
{
    private const string Name = "Blueprint.NotifyLoad";

    /// <summary>Parses <paramref name="args"/>, runs, prints; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args) =>
        LoadMain.RunAsync(
            Name,
            LoadOptions.Usage,
            args,
            LoadOptions.Parse,
            async (options, cancellationToken) => Line(options, await NotifyRun.RunAsync(options, cancellationToken).ConfigureAwait(false)),
            options => $"the {options.Mode} run");

    private static long Percentile(LongHistogram histogram, double percentile) =>
        histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(percentile) : 0;

    private static string Line(LoadOptions options, RunResult result)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("mode", options.Mode);
            json.WriteNumber("rate", options.Rate);
            json.WriteNumber("concurrency", options.Concurrency);
            json.WriteNumber("seconds", options.Duration.TotalSeconds);
            json.WriteNumber("published", result.Published);
            json.WriteNumber("publishes_per_s", Math.Round(result.PublishesPerSecond, 1));
            json.WriteNumber("accepted", result.Accepted);
            json.WriteNumber("delivered", result.Delivered);
            json.WriteNumber("missing", Math.Max(0, result.Accepted - result.Delivered));
            json.WriteNumber("duplicates", result.Duplicates);
            json.WriteNumber("deliveries_per_s", Math.Round(result.DeliveriesPerSecond, 1));
            json.WriteNumber("p50_us", Percentile(result.Latency, 50));
            json.WriteNumber("p99_us", Percentile(result.Latency, 99));
            json.WriteNumber("max_us", result.Latency.TotalCount > 0 ? result.Latency.GetMaxValue() : 0);
            json.WriteNumber("answer_p50_us", Percentile(result.Answer, 50));
            json.WriteNumber("answer_p99_us", Percentile(result.Answer, 99));
            json.WriteNumber("unreadable", result.Unreadable);
            json.WriteNumber("errors", result.Errors);
            json.WriteString("first_error", result.FirstError);
            json.WriteString("confirmed_by", result.ConfirmedBy);

            // The whole process, the receiver included: the client's share of the two cores.
            json.WriteNumber("client_cpu_s", Math.Round(Environment.CpuUsage.TotalTime.TotalSeconds, 3));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
