namespace Blueprint.Lab.Experiments;

/// <summary>The experiments <c>blueprint lab</c> knows.</summary>
public static class ExperimentCatalog
{
    /// <summary>Gets every experiment, in listing order.</summary>
    public static IReadOnlyList<IExperiment> All { get; } =
    [
        new ConsistentHashingExperiment(),
        new BloomFilterExperiment(),
        new TokenVsLeakyBucketExperiment(),
        new RateLimitWindowsExperiment(),
        new DistributedRateLimitsExperiment(),
        new BatchVsStreamExperiment(),
        new QueueVsLogExperiment(),
        new EvictionExperiment(),
        new CachePatternsExperiment(),
        new LocalVsDistributedCacheExperiment(),
        new NotificationFanOutExperiment(),
        new MqttVsWebSocketExperiment(),
        new LongPollingVsWebSocketsExperiment(),
        new StatefulVsStatelessExperiment(),
    ];

    /// <summary>Finds an experiment by name (case-insensitive).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The experiment, or <see langword="null"/>.</returns>
    public static IExperiment? Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
