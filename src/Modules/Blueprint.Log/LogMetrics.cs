using System.Diagnostics.Metrics;
using Blueprint.Hosting;

namespace Blueprint.Log;

/// <summary>
/// The log's gauges on the <c>blueprint</c> meter, read only when metrics are collected: <c>blueprint.log.consumer.lag</c>,
/// for each consumer group and topic the records between the group's committed offset and the partition's end (its
/// high watermark, what a consumer can read), summed over the topic's partitions the group committed.
/// </summary>
internal static class LogMetrics
{
    /// <summary>The lag gauge's name.</summary>
    public const string ConsumerLagMetric = "blueprint.log.consumer.lag";

    /// <summary>Creates the gauges over <paramref name="broker"/>.</summary>
    public static void Register(IMeterFactory meters, LogBroker broker)
    {
        meters.Create(ServiceDefaults.ServiceName).CreateObservableGauge(
            ConsumerLagMetric,
            () => ConsumerLag(broker).Select(lag => new Measurement<long>(
                lag.Lag, new KeyValuePair<string, object?>("group", lag.Group), new KeyValuePair<string, object?>("topic", lag.Topic))),
            unit: "{record}",
            description: "Records a consumer group has yet to commit: the partitions' end offset (high watermark) minus the group's committed offset, summed by group and topic.");
    }

    /// <summary>The lag of every group on every topic it committed offsets for (a topic gone or a partition past its count is left out).</summary>
    public static List<(string Group, string Topic, long Lag)> ConsumerLag(LogBroker broker)
    {
        if (!broker.IsStarted)
        {
            return [];
        }

        var lags = new Dictionary<(string Group, string Topic), long>();
        foreach (var (group, topic, partition, offset) in broker.Groups.CommittedOffsets())
        {
            if (broker.Topics.TryGet(topic, out var found) && partition >= 0 && partition < found.Partitions.Count)
            {
                var lag = Math.Max(0, found.Partitions[partition].HighWatermark - offset);
                lags[(group, topic)] = lags.GetValueOrDefault((group, topic)) + lag;
            }
        }

        return [.. lags.OrderBy(l => l.Key.Group, StringComparer.Ordinal).ThenBy(l => l.Key.Topic, StringComparer.Ordinal).Select(l => (l.Key.Group, l.Key.Topic, l.Value))];
    }
}
