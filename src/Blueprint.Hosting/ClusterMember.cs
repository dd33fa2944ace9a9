namespace Blueprint.Hosting;

/// <summary>
/// Member <see cref="Index"/> (from 1) of a local cluster of <see cref="Count"/> members that <c>blueprint cluster up</c>
/// starts as separate processes on <see cref="Host"/>. A module that takes part in clusters turns it into the flags of
/// that member's <c>blueprint run</c> (<see cref="IBlueprintModule.PlanClusterMember"/>).
/// </summary>
/// <param name="Index">The member's number, from 1.</param>
/// <param name="Count">How many members the cluster has.</param>
/// <param name="Host">The address every member listens on and dials.</param>
/// <param name="BasePort">The port of a listener on member 1 (the listener's default unless <c>cluster up</c> was given its flag).</param>
public sealed record ClusterMember(int Index, int Count, string Host, Func<ModuleListener, int> BasePort)
{
    /// <summary>How far apart the same listener's ports are on consecutive members.</summary>
    public const int PortStride = 10;

    /// <summary>The port of <paramref name="listener"/> on member <paramref name="member"/> (from 1): its base port + 10 per member.</summary>
    public int Port(ModuleListener listener, int member) => BasePort(listener) + (PortStride * (member - 1));
}

/// <summary>What a module adds to one member of <c>blueprint cluster up</c>.</summary>
/// <param name="Arguments">Flags of the member's <c>blueprint run</c>.</param>
/// <param name="Summary">What to print about it, for example <c>kafka 127.0.0.1:9092</c>.</param>
/// <param name="ReadyPort">A port that accepts connections once the module runs, or null.</param>
public sealed record ClusterMemberPlan(IReadOnlyList<string> Arguments, string Summary, int? ReadyPort);
