using System.Buffers.Binary;
using Blueprint.Core.Raft;

namespace Blueprint.Raft.Tests.Core;

/// <summary>
/// A hand-driven cluster for scenario tests: messages wait in a queue until the test delivers them, links can be cut,
/// and every Ready is persisted, sent and applied as the contract says.
/// </summary>
internal sealed class TestCluster
{
    private readonly Dictionary<int, TestNode> _nodes = [];
    private readonly HashSet<(int From, int To)> _cut = [];
    private readonly Func<int, RaftConfig> _configFor;
    private int _seed = 7;

    public TestCluster(int count, Func<RaftConfig, RaftConfig>? configure = null)
    {
        _configFor = id => (configure ?? (c => c))(new RaftConfig { Id = id });
        int[] voters = [.. Enumerable.Range(1, count)];
        foreach (int id in voters)
        {
            Add(id, voters);
        }
    }

    public List<Message> Queue { get; } = [];

    public RaftNode this[int id] => _nodes[id].Raft;

    public TestNode Node(int id) => _nodes[id];

    public IEnumerable<int> Ids => _nodes.Keys;

    public TestNode Add(int id, IReadOnlyList<int> voters)
    {
        var storage = new MemoryRaftStorage(voters);
        var node = new TestNode(id, storage, new RaftNode(_configFor(id), storage, new Random(_seed++)));
        _nodes[id] = node;
        return node;
    }

    /// <summary>Crashes a node: everything not persisted is gone, and it restarts from its storage.</summary>
    public void Restart(int id)
    {
        var old = _nodes[id];
        Queue.RemoveAll(m => m.To == id || m.From == id);
        _nodes[id] = new TestNode(id, old.Storage, new RaftNode(_configFor(id), old.Storage, new Random(_seed++)));
    }

    public void Isolate(int id)
    {
        foreach (int other in _nodes.Keys.Where(o => o != id))
        {
            _cut.Add((id, other));
            _cut.Add((other, id));
        }
    }

    public void Cut(int from, int to) => _cut.Add((from, to));

    public void Heal() => _cut.Clear();

    /// <summary>Handles every node's Ready once; messages go to the queue unless their link is cut.</summary>
    public void Process()
    {
        foreach (var node in _nodes.Values)
        {
            while (node.Raft.HasReady())
            {
                var ready = node.Raft.Ready();
                node.Storage.Persist(ready);
                Queue.AddRange(ready.Messages.Where(m => !_cut.Contains((m.From, m.To)) && _nodes.ContainsKey(m.To)));
                if (ready.Snapshot is not null)
                {
                    node.Applied.Clear();
                    node.SnapshotsInstalled++;
                }

                node.Applied.AddRange(ready.CommittedEntries);
                node.ReadStates.AddRange(ready.ReadStates);
                node.Raft.Advance();
            }
        }
    }

    /// <summary>Delivers what is queued now (not what the deliveries send); returns how many were delivered.</summary>
    public int DeliverOnce(Func<Message, bool>? filter = null)
    {
        Process();
        var batch = Queue.Where(m => filter?.Invoke(m) ?? true).ToList();
        foreach (var message in batch)
        {
            Queue.Remove(message);
        }

        foreach (var message in batch.Where(m => !_cut.Contains((m.From, m.To))))
        {
            _nodes[message.To].Raft.Step(message);
        }

        Process();
        return batch.Count;
    }

    /// <summary>Delivers until no message is left.</summary>
    public void Stabilize(int roundsMax = 100)
    {
        for (int round = 0; round < roundsMax && DeliverOnce() > 0; round++)
        {
        }
    }

    public void Drop(Func<Message, bool> filter) => Queue.RemoveAll(m => filter(m));

    public void Tick(int id, int ticks = 1)
    {
        for (int i = 0; i < ticks; i++)
        {
            _nodes[id].Raft.Tick();
        }
    }

    public void TickAll(int ticks = 1)
    {
        for (int i = 0; i < ticks; i++)
        {
            foreach (var node in _nodes.Values)
            {
                node.Raft.Tick();
            }
        }
    }

    /// <summary>Makes <paramref name="id"/> campaign at once, as a leadership transfer does, and delivers everything.</summary>
    public void Elect(int id)
    {
        var node = _nodes[id].Raft;
        node.Step(new Message { Type = MessageType.TimeoutNow, From = id, To = id, Term = node.Term });
        Stabilize();
    }

    /// <summary>Makes <paramref name="id"/> win an election and stops before its first entry replicates.</summary>
    public void ElectWithoutCommitting(int id)
    {
        var node = _nodes[id].Raft;
        node.Step(new Message { Type = MessageType.TimeoutNow, From = id, To = id, Term = node.Term });
        DeliverOnce();
        DeliverOnce();
    }

    public ProposeResult Propose(int id, long command)
    {
        var data = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(data, command);
        return _nodes[id].Raft.Propose(data);
    }

    public static long Command(LogEntry entry) => entry.Kind == EntryKind.Normal ? BinaryPrimitives.ReadInt64LittleEndian(entry.Data.Span) : 0;
}

internal sealed class TestNode(int id, MemoryRaftStorage storage, RaftNode raft)
{
    public int Id { get; } = id;

    public MemoryRaftStorage Storage { get; } = storage;

    public RaftNode Raft { get; } = raft;

    public List<LogEntry> Applied { get; } = [];

    public List<ReadState> ReadStates { get; } = [];

    public int SnapshotsInstalled { get; set; }

    public IEnumerable<long> AppliedCommands => Applied.Where(e => e.Kind == EntryKind.Normal).Select(TestCluster.Command);
}
