using System.Diagnostics.Metrics;
using Blueprint.Log.Tests.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Log.Tests;

public sealed class LogMetricsTests
{
    private static Dictionary<(string?, string?), double> Lags(LogNode node) =>
        Instruments.Observe(node.Node.Node.Services.GetRequiredService<IMeterFactory>(), LogMetrics.ConsumerLagMetric)
            .ToDictionary(r => (r.Tags["group"], r.Tags["topic"]), r => r.Value);

    private static LogMessage Message(string value) => new(null, System.Text.Encoding.UTF8.GetBytes(value));

    [Fact]
    public async Task Consumer_lag_is_the_end_offset_minus_the_committed_one_summed_over_partitions()
    {
        var token = TestContext.Current.CancellationToken;
        await using var node = await LogNode.StartAsync();
        var log = node.Node.Node.Services.GetRequiredService<IEventLog>();
        await log.EnsureTopicAsync("orders", 2, cancellationToken: token);
        await log.AppendAsync("orders", [.. Enumerable.Range(0, 5).Select(i => Message($"a{i}"))], 0, token);
        await log.AppendAsync("orders", [.. Enumerable.Range(0, 3).Select(i => Message($"b{i}"))], 1, token);

        await log.CommitAsync("billing", "orders", 0, 2, token);
        await log.CommitAsync("billing", "orders", 1, 3, token);
        await log.CommitAsync("audit", "orders", 0, 5, token);

        var lags = Lags(node);
        Assert.Equal(3, lags[("billing", "orders")]);
        Assert.Equal(0, lags[("audit", "orders")]);
        Assert.Equal(2, lags.Count);

        await log.AppendAsync("orders", [Message("b3"), Message("b4")], 1, token);
        Assert.Equal(5, Lags(node)[("billing", "orders")]);
    }
}
