using Blueprint.Core.Raft;

namespace Blueprint.Simulation.Raft;

/// <summary>
/// The simulated network: every message gets a random delay (which reorders them), may be dropped or duplicated,
/// and is lost when a partition cuts its link at send or delivery time.
/// </summary>
internal sealed class SimNetwork(SimRandom random, int nodesMax)
{
    /// <summary>Most messages in flight; past it new messages are dropped, as a full socket buffer would.</summary>
    public const int InflightMax = 1 << 16;

    private readonly PriorityQueue<Message, (long DeliverAt, long Sequence)> _queue = new();
    private readonly bool[,] _blocked = new bool[nodesMax + 1, nodesMax + 1];
    private long _sequence;

    public double DropRate { get; set; }

    public double DuplicateRate { get; set; }

    public int DelayMaxSteps { get; set; } = 1;


    public bool IsPartitioned { get; private set; }

    public void Send(Message message, long now)
    {
        if (_blocked[message.From, message.To] || random.Chance(DropRate))
        {
            return;
        }

        Enqueue(message, now);
        if (random.Chance(DuplicateRate))
        {
            Enqueue(message, now);
        }
    }

    public bool TryReceive(long now, out Message message)
    {
        while (_queue.TryPeek(out message!, out var at) && at.DeliverAt <= now)
        {
            _queue.Dequeue();
            if (!_blocked[message.From, message.To])
            {
                return true;
            }
        }

        return false;
    }

    public void Block(int from, int to)
    {
        _blocked[from, to] = true;
        IsPartitioned = true;
    }

    public void Heal()
    {
        Array.Clear(_blocked);
        IsPartitioned = false;
    }

    private void Enqueue(Message message, long now)
    {
        if (_queue.Count < InflightMax)
        {
            _queue.Enqueue(message, (now + random.Next(DelayMaxSteps + 1), _sequence++));
        }
    }
}
