using System.Globalization;
using Blueprint.Log.Storage;

namespace Blueprint.Log.Broker;

/// <summary>
/// A topic's own settings, by Kafka's topic config names (cleanup.policy, retention.ms, …); what a topic does not set
/// comes from the broker's <see cref="LogOptions"/>.
/// </summary>
public static class TopicConfig
{
    /// <summary>The topic configs this broker understands, with a check of each value.</summary>
    public static IReadOnlyDictionary<string, Func<string, string?>> Known { get; } = new Dictionary<string, Func<string, string?>>(StringComparer.Ordinal)
    {
        ["cleanup.policy"] = value => value is "delete" or "compact" ? null : "must be delete or compact",
        ["retention.ms"] = value => Long(value, -1, long.MaxValue),
        ["retention.bytes"] = value => Long(value, -1, long.MaxValue),
        ["segment.bytes"] = value => Long(value, Records.RecordBatchHeader.Size, 1L << 30),
        ["segment.ms"] = value => Long(value, 1, long.MaxValue),
        ["max.message.bytes"] = value => Long(value, 0, int.MaxValue),
        ["min.insync.replicas"] = value => Long(value, 1, 3),
    };

    /// <summary>Why a topic's configs are not acceptable, or null when they are.</summary>
    public static string? Validate(IReadOnlyDictionary<string, string> configs)
    {
        ArgumentNullException.ThrowIfNull(configs);
        foreach (var (name, value) in configs)
        {
            if (!Known.TryGetValue(name, out var check))
            {
                return $"unknown topic config '{name}'; this broker knows {string.Join(", ", Known.Keys)}";
            }

            if (check(value) is { } problem)
            {
                return $"config {name}={value}: {problem}";
            }
        }

        return null;
    }

    /// <summary>The storage settings of a topic: the broker's defaults overridden by the topic's configs (already validated).</summary>
    public static PartitionLogConfig Apply(PartitionLogConfig defaults, IReadOnlyDictionary<string, string> configs)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(configs);
        var config = defaults;
        foreach (var (name, value) in configs)
        {
            config = name switch
            {
                "cleanup.policy" => config with { Compact = value == "compact" },
                "retention.ms" => config with { RetentionAge = ParseLong(value) < 0 ? null : TimeSpan.FromMilliseconds(ParseLong(value)) },
                "retention.bytes" => config with { RetentionBytes = ParseLong(value) < 0 ? null : ParseLong(value) },
                "segment.bytes" => config with { SegmentBytes = ParseLong(value) },
                "segment.ms" => config with { SegmentAge = TimeSpan.FromMilliseconds(ParseLong(value)) },
                "max.message.bytes" => config with { MaxBatchBytes = (int)ParseLong(value) },
                _ => config,
            };
        }

        return config;
    }

    /// <summary>The effective value of every known config of a topic, for DescribeConfigs and the HTTP API.</summary>
    public static IReadOnlyDictionary<string, string> Effective(PartitionLogConfig config, IReadOnlyDictionary<string, string> configs)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(configs);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["cleanup.policy"] = config.Compact ? "compact" : "delete",
            ["retention.ms"] = Text(config.RetentionAge is { } age ? (long)age.TotalMilliseconds : -1),
            ["retention.bytes"] = Text(config.RetentionBytes ?? -1),
            ["segment.bytes"] = Text(config.SegmentBytes),
            ["segment.ms"] = Text(config.SegmentAge is { } roll ? (long)roll.TotalMilliseconds : long.MaxValue),
            ["max.message.bytes"] = Text(config.MaxBatchBytes),
            ["min.insync.replicas"] = configs.TryGetValue("min.insync.replicas", out var minIsr) ? minIsr : "1",
        };
        return result;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long ParseLong(string value) => long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private static string? Long(string value, long min, long max) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? null
            : $"must be a whole number from {min} to {max}";
}
