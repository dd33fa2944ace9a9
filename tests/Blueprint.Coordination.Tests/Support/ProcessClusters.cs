namespace Blueprint.Coordination.Tests.Support;

/// <summary>
/// The tests that run members as separate processes share one collection and run one class at a time: several
/// clusters of processes at once on two cores starve each other's heartbeats and make the tests measure the machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusters
{
    public const string Name = "process clusters";
}
