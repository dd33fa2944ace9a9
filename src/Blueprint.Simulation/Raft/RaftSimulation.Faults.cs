using System.Buffers.Binary;
using Blueprint.Core.Raft;

namespace Blueprint.Simulation.Raft;

// Faults and clients: what one step may do to the cluster besides ticking it.
public sealed partial class RaftSimulation
{
    /// <summary>Most reads a client keeps waiting on one node; no new read starts there until one finishes or the node crashes.</summary>
    public const int ReadsPerNodeMax = 64;

    private void InjectFaults()
    {
        if (_random.Chance(_faults.CrashRate))
        {
            var node = PickUp();
            if (node is not null)
            {
                // Sometimes the crash lands between persisting a Ready and sending it.
                if (_random.Chance(0.3))
                {
                    node.CrashAfterPersist = true;
                }
                else
                {
                    Crash(node);
                }
            }
        }

        foreach (var node in _nodes)
        {
            if (!node.IsUp && _step >= node.DownUntil)
            {
                Restart(node);
            }
        }

        if (_network.IsPartitioned ? _random.Chance(_faults.PartitionHealRate) : _random.Chance(_faults.PartitionRate))
        {
            if (_network.IsPartitioned)
            {
                _network.Heal();
                _trace.Add(new TraceEvent(_step, "heal-partition", 0, 0, 0, 0));
            }
            else
            {
                Partition();
            }
        }
    }

    private void Crash(SimNode node, int? downSteps = null)
    {
        node.LoseVolatileState();
        node.DownUntil = _step + (downSteps ?? _random.Next(5, 150));
        _stats.Crashes++;
        _trace.Add(new TraceEvent(_step, "crash", node.Id, 0, node.DownUntil, 0));
    }

    private void Restart(SimNode node)
    {
        Start(node);
        _trace.Add(new TraceEvent(_step, "restart", node.Id, 0, node.Raft!.Term, node.Raft.LastIndex));
    }

    /// <summary>Cuts the network in one of three ways: two halves, one node deaf or mute, or two halves joined by one bridge node.</summary>
    private void Partition()
    {
        _stats.Partitions++;
        int kind = _random.Next(4);
        var side = new bool[_nodes.Count];
        for (int i = 0; i < side.Length; i++)
        {
            side[i] = _random.Chance(0.5);
        }

        int bridge = kind == 2 ? _random.Next(_nodes.Count) : -1;
        int lone = _random.Next(_nodes.Count);
        if (kind == 3)
        {
            // Cut the leader off: the partition that tests stale leaders.
            var leader = PickLeader();
            lone = leader is null ? lone : _nodes.IndexOf(leader);
        }

        bool mute = _random.Chance(0.5);
        for (int a = 0; a < _nodes.Count; a++)
        {
            for (int b = 0; b < _nodes.Count; b++)
            {
                bool cut = kind switch
                {
                    0 => side[a] != side[b],
                    1 => mute ? a == lone && b != lone : b == lone && a != lone,
                    2 => side[a] != side[b] && a != bridge && b != bridge,
                    _ => (a == lone) != (b == lone),
                };
                if (cut)
                {
                    _network.Block(_nodes[a].Id, _nodes[b].Id);
                }
            }
        }

        _trace.Add(new TraceEvent(_step, kind switch { 0 => "partition", 1 => mute ? "partition-mute" : "partition-deaf", 2 => "partition-bridge", _ => "partition-leader" }, kind is 1 or 3 ? _nodes[lone].Id : 0, bridge >= 0 ? _nodes[bridge].Id : 0, 0, 0));
    }

    private void HealEverything()
    {
        _network.Heal();
        _network.DropRate = 0;
        _network.DuplicateRate = 0;
        _network.DelayMaxSteps = 1;
        foreach (var node in _nodes)
        {
            node.CrashAfterPersist = false;
            if (!node.IsUp)
            {
                Restart(node);
            }
        }

        _liveness.OnHealed(_step);
        _trace.Add(new TraceEvent(_step, "heal-all", 0, 0, 0, 0));
    }

    private void RunClients(bool calm)
    {
        if (_random.Chance(0.3))
        {
            ProposeWrite();
        }

        if (_random.Chance(0.3))
        {
            StartRead();
        }

        if (!calm && _random.Chance(_faults.ConfigChangeRate))
        {
            ChangeMembership();
        }

        if (!calm && _random.Chance(_faults.TransferRate))
        {
            var leader = PickLeader();
            var voters = leader?.Raft!.Voters;
            if (voters is { Count: > 1 } && leader!.Raft!.TransferLeadership(voters[_random.Next(voters.Count)]))
            {
                _stats.Transfers++;
                _trace.Add(new TraceEvent(_step, "transfer", leader.Id, leader.Raft.LeadTransferee, leader.Raft.Term, 0));
            }
        }
    }

    private void ProposeWrite()
    {
        var leader = PickLeader();
        if (leader is null)
        {
            return;
        }

        long command = ++_nextCommand;
        var data = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(data, command);
        var result = leader.Raft!.Propose(data);
        if (result.IsAccepted)
        {
            leader.Writes[result.Index] = new PendingWrite(result.Term, command, _step);
            _trace.Add(new TraceEvent(_step, "propose", leader.Id, 0, result.Index, result.Term));
        }
    }

    private void StartRead()
    {
        var node = PickUp();
        if (node is null || node.Reads.Count >= ReadsPerNodeMax)
        {
            return;
        }

        long id = ++_nextRead;
        long bound = _reads.OnReadStarted();
        if (node.Raft!.ReadIndex(id))
        {
            node.Reads[id] = bound;
        }
    }

    private void ChangeMembership()
    {
        var leader = PickLeader();
        if (leader is null)
        {
            return;
        }

        var voters = leader.Raft!.Voters;
        int votersMin = Math.Max(3, _options.Nodes - 1);
        bool add = voters.Count <= votersMin || (voters.Count < _options.Nodes + 1 && _random.Chance(0.5));
        if (add)
        {
            if (_nextNodeId >= _options.Nodes + ExtraNodesMax)
            {
                return;
            }

            // A new node starts with an empty configuration: it waits for the leader instead of campaigning.
            var joiner = AddNode([]);
            var result = leader.Raft.ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddVoter, joiner.Id));
            Record(leader, ConfigChangeKind.AddVoter, joiner.Id, result);
            if (!result.IsAccepted)
            {
                _nodes.Remove(joiner);
                _nextNodeId--;
            }
        }
        else
        {
            int removed = voters[_random.Next(voters.Count)];
            Record(leader, ConfigChangeKind.RemoveVoter, removed, leader.Raft.ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveVoter, removed)));
        }
    }

    private void Record(SimNode leader, ConfigChangeKind kind, int node, ProposeResult result)
    {
        if (result.IsAccepted)
        {
            _stats.ConfigChanges++;
            _trace.Add(new TraceEvent(_step, kind == ConfigChangeKind.AddVoter ? "add-voter" : "remove-voter", leader.Id, node, result.Index, result.Term));
        }
    }

    private SimNode? PickLeader()
    {
        int count = 0;
        foreach (var node in _nodes)
        {
            count += node.Raft is { Role: RaftRole.Leader } ? 1 : 0;
        }

        if (count == 0)
        {
            return null;
        }

        int pick = _random.Next(count);
        foreach (var node in _nodes)
        {
            if (node.Raft is { Role: RaftRole.Leader } && pick-- == 0)
            {
                return node;
            }
        }

        return null;
    }

    private SimNode? PickUp()
    {
        var node = _nodes[_random.Next(_nodes.Count)];
        return node.IsUp ? node : null;
    }

    /// <summary>The fault rates of one run, drawn from its seed so runs differ in character as well as in detail.</summary>
    private sealed record Faults(double DropRate, double DuplicateRate, int DelayMaxSteps, double CrashRate, double PartitionRate, double PartitionHealRate, double ConfigChangeRate, double TransferRate, double CrashAfterVoteRate, double CrashLeaderRate)
    {
        public static Faults Draw(SimRandom random) => new(
            DropRate: 0.2 * random.NextDouble(),
            DuplicateRate: 0.1 * random.NextDouble(),
            DelayMaxSteps: random.Next(0, 8),
            CrashRate: 0.002 + (0.01 * random.NextDouble()),
            PartitionRate: 0.002 + (0.01 * random.NextDouble()),
            PartitionHealRate: 0.005 + (0.02 * random.NextDouble()),
            ConfigChangeRate: 0.002 + (0.006 * random.NextDouble()),
            TransferRate: 0.002 + (0.03 * random.NextDouble()),
            CrashAfterVoteRate: Targeted(random),
            CrashLeaderRate: Targeted(random));

        /// <summary>A targeted crash point is on in a third of the runs, and then fires often (FoundationDB's "buggify").</summary>
        private static double Targeted(SimRandom random) => random.Chance(1.0 / 3) ? 0.2 + (0.6 * random.NextDouble()) : 0;

        public void Resume(SimNetwork network)
        {
            network.DropRate = DropRate;
            network.DuplicateRate = DuplicateRate;
            network.DelayMaxSteps = DelayMaxSteps;
        }
    }
}
