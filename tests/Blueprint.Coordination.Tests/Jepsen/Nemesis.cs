using Blueprint.Testing.Faults;

namespace Blueprint.Coordination.Tests.Jepsen;

/// <summary>
/// The fault schedule: in turn, kill -9 a member and restart it, isolate a member (silently: bytes vanish), split a
/// majority from a minority with connection resets, and cut one direction of a link. Every fault is healed before the
/// next one; the log says what happened when, for a failure message.
/// </summary>
public sealed class Nemesis(ProcessCluster cluster, int seed)
{
    private readonly Random _random = new(seed);

    public List<string> Log { get; } = [];

    public async Task RunAsync(TimeSpan faultFor, TimeSpan calmFor, CancellationToken stop)
    {
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            var member = _random.Next(cluster.Names.Count);
            var name = cluster.Names[member];
            switch (round++ % 4)
            {
                case 0:
                    Note($"kill -9 {name}");
                    await cluster.KillAsync(member);
                    await Pause(faultFor, stop);
                    Note($"restart {name}");
                    await cluster.RestartAsync(member);
                    break;
                case 1:
                    Note($"isolate {name} (silent)");
                    cluster.Faults.Isolate(name, PartitionMode.Silent);
                    await Pause(faultFor, stop);
                    break;
                case 2:
                    var others = cluster.Names.Where(other => other != name).ToList();
                    Note($"partition [{name}] from [{string.Join(",", others)}] (reset)");
                    cluster.Faults.Partition([name], others, PartitionMode.Reject);
                    await Pause(faultFor, stop);
                    break;
                default:
                    var to = cluster.Names[(member + 1 + _random.Next(cluster.Names.Count - 1)) % cluster.Names.Count];
                    Note($"block {name} -> {to}");
                    cluster.Faults.Block(name, to);
                    await Pause(faultFor, stop);
                    break;
            }

            Note("heal");
            cluster.Faults.Heal();
            await Pause(calmFor, stop);
        }
    }

    /// <summary>Undoes every fault: heals the network and restarts stopped members.</summary>
    public async Task HealAllAsync()
    {
        cluster.Faults.Heal();
        for (var member = 0; member < cluster.Names.Count; member++)
        {
            if (!cluster.IsRunning(member))
            {
                Note($"restart {cluster.Names[member]}");
                await cluster.RestartAsync(member);
            }
        }
    }

    private void Note(string what)
    {
        lock (Log)
        {
            Log.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");
        }
    }

    // The schedule's own pacing: how long a fault lasts, not a wait for an event.
    private static async Task Pause(TimeSpan duration, CancellationToken stop)
    {
        try
        {
            await Task.Delay(duration, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
