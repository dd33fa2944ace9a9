namespace Blueprint.Node;

/// <summary>The flags of <c>blueprint run</c> and the configuration key each one sets: one table for the parser and for error messages.</summary>
internal static class NodeFlags
{
    public static IReadOnlyDictionary<string, string> KeyByFlag { get; } = new Dictionary<string, string>
    {
        ["--data-dir"] = "Node:DataDir",
        ["--bind"] = "Node:Bind",
        ["--http-port"] = "Node:HttpPort",
        ["--resp-port"] = "Kv:Port",
        ["--modules"] = "Node:Modules",
        ["--log-format"] = "Node:LogFormat",
        ["--etcd-port"] = "Coordination:EtcdPort",
        ["--raft-port"] = "Coordination:RaftPort",
        ["--node-id"] = "Coordination:NodeId",
        ["--initial-cluster"] = "Coordination:InitialCluster",
        ["--initial-cluster-state"] = "Coordination:InitialClusterState",
        ["--member-id"] = "Coordination:JoinMemberId",
    };

    public static IReadOnlyDictionary<string, string> FlagByKey { get; } =
        KeyByFlag.ToDictionary(pair => pair.Value, pair => pair.Key, StringComparer.OrdinalIgnoreCase);
}
