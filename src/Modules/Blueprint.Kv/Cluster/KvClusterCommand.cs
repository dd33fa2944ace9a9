using System.CommandLine;
using System.Globalization;
using StackExchange.Redis;

namespace Blueprint.Kv.Cluster;

/// <summary>
/// <c>blueprint kv cluster-status|rebalance --endpoint host:port</c>: look at a KV cluster through any of its servers,
/// and give every primary an equal share of the slots. A node added to the cluster (started with <c>--kv-cluster true</c>
/// and the members' list without itself) joins empty; <c>rebalance</c> then moves slots to it with their keys
/// (Garnet's <c>MIGRATE ... SLOTSRANGE</c>) while clients keep working: they follow MOVED and ASK.
/// Exit 0 on success, 1 when the cluster cannot be reached or a move failed, 2 for a bad argument.
/// </summary>
internal static class KvClusterCommand
{
    private const int UsageErrorExitCode = 2;

    /// <summary>How long connecting to a server, or one command, may take (a migration has its own --timeout-ms).</summary>
    private const int CommandTimeoutMs = 5_000;

    /// <summary>The bounds of --timeout-ms.</summary>
    private const int MigrateTimeoutMinMs = 100, MigrateTimeoutMaxMs = 600_000;

    public static Command Create()
    {
        var kv = new Command("kv", "Manage the KV module's Redis Cluster.");
        kv.Subcommands.Add(Status());
        kv.Subcommands.Add(Rebalance());
        return kv;
    }

    private static Option<string> EndpointOption() => new("--endpoint")
    {
        Description = "Any server of the cluster, host:port (default 127.0.0.1:6379).",
        DefaultValueFactory = _ => "127.0.0.1:6379",
    };

    private static Command Status()
    {
        var endpoint = EndpointOption();
        var status = new Command("cluster-status", "Print each primary of the KV cluster with its slots, keys and replicas.");
        status.Options.Add(endpoint);
        status.SetAction((parse, cancellationToken) => WithClusterAsync(parse.GetValue(endpoint)!, parse.InvocationConfiguration, async (_, nodes, output) =>
        {
            foreach (var primary in nodes.Where(node => node.IsPrimary).OrderBy(node => node.Endpoint.Port))
            {
                var replicas = nodes.Where(node => node.PrimaryId == primary.Id).Select(node => node.Endpoint.ToString());
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{primary.Endpoint}  {(primary.SeemsUp ? "up" : "down")}  slots {primary.SlotCount} [{string.Join(' ', primary.Slots)}]  replicas [{string.Join(' ', replicas)}]")).ConfigureAwait(false);
            }

            return 0;
        }));
        return status;
    }

    private static Command Rebalance()
    {
        var endpoint = EndpointOption();
        var timeout = new Option<int>("--timeout-ms")
        {
            Description = "How long one range's migration may take (default 30000).",
            DefaultValueFactory = _ => 30_000,
        };
        var rebalance = new Command("rebalance", "Give every reachable primary an equal share of the 16384 slots, moving slots with their keys.");
        rebalance.Options.Add(endpoint);
        rebalance.Options.Add(timeout);
        rebalance.SetAction((parse, cancellationToken) =>
        {
            var milliseconds = parse.GetValue(timeout);
            if (milliseconds is < MigrateTimeoutMinMs or > MigrateTimeoutMaxMs)
            {
                parse.InvocationConfiguration.Error.WriteLine($"blueprint: --timeout-ms must be from {MigrateTimeoutMinMs} to {MigrateTimeoutMaxMs}, got {milliseconds.ToString(CultureInfo.InvariantCulture)}");
                return Task.FromResult(UsageErrorExitCode);
            }

            return WithClusterAsync(parse.GetValue(endpoint)!, parse.InvocationConfiguration, async (multiplexer, nodes, output) =>
            {
                var primaries = nodes.Where(node => node.IsPrimary && node.SeemsUp).ToList();
                var moves = SlotRebalancer.Plan(primaries);
                if (moves.Count == 0)
                {
                    await output.WriteLineAsync($"balanced: {primaries.Count.ToString(CultureInfo.InvariantCulture)} primaries").ConfigureAwait(false);
                    return 0;
                }

                foreach (var move in moves)
                {
                    var donor = multiplexer.GetServer(move.From.Endpoint.Host, move.From.Endpoint.Port);
                    try
                    {
                        await donor.ExecuteAsync("MIGRATE", move.To.Endpoint.Host, move.To.Endpoint.Port, "", 0, milliseconds, "SLOTSRANGE", move.Range.Start, move.Range.End).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        await parse.InvocationConfiguration.Error.WriteLineAsync($"blueprint: moving slots {move.Range} from {move.From.Endpoint} to {move.To.Endpoint} failed: {e.Message}").ConfigureAwait(false);
                        return 1;
                    }

                    await output.WriteLineAsync($"moved slots {move.Range} from {move.From.Endpoint} to {move.To.Endpoint}").ConfigureAwait(false);

                    // The donor and the receiver know; the others would learn by gossip, which Garnet does not always
                    // carry through (a bystander's view can keep the donor as owner). Tell every other primary directly (a replica
                    // answers SETSLOTSRANGE with a hang; it takes its primary's view).
                    foreach (var bystander in nodes.Where(node => node.SeemsUp && node.IsPrimary && node.Id != move.From.Id && node.Id != move.To.Id))
                    {
                        try
                        {
                            await multiplexer.GetServer(bystander.Endpoint.Host, bystander.Endpoint.Port)
                                .ExecuteAsync("CLUSTER", "SETSLOTSRANGE", "NODE", move.To.Id, move.Range.Start, move.Range.End).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is RedisException or TimeoutException or ArgumentException)
                        {
                            await parse.InvocationConfiguration.Error.WriteLineAsync($"blueprint: {bystander.Endpoint} was not told of the move ({e.Message}); it learns it by gossip").ConfigureAwait(false);
                        }
                    }
                }

                // Each receiver takes the newest configuration epoch, so its claims win where gossip still carries a
                // donor's older view of the moved slots (Garnet settles two claims of a slot by epoch).
                foreach (var receiver in moves.Select(move => move.To).DistinctBy(node => node.Id))
                {
                    try
                    {
                        await multiplexer.GetServer(receiver.Endpoint.Host, receiver.Endpoint.Port).ExecuteAsync("CLUSTER", "BUMPEPOCH").ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        await parse.InvocationConfiguration.Error.WriteLineAsync($"blueprint: {receiver.Endpoint} could not bump its epoch: {e.Message}").ConfigureAwait(false);
                        return 1;
                    }
                }

                return 0;
            });
        });
        return rebalance;
    }

    private static async Task<int> WithClusterAsync(string endpointText, InvocationConfiguration invocation, Func<ConnectionMultiplexer, IReadOnlyList<KvClusterNode>, TextWriter, Task<int>> action)
    {
        if (!ClusterEndpoint.TryParse(endpointText, out var endpoint))
        {
            await invocation.Error.WriteLineAsync($"blueprint: --endpoint must be host:port, got '{endpointText}'").ConfigureAwait(false);
            return UsageErrorExitCode;
        }

        IReadOnlyList<KvClusterNode> nodes;
        using (var seed = await ConnectAsync([endpoint]).ConfigureAwait(false))
        {
            try
            {
                var reply = await seed.GetServer(endpoint.Host, endpoint.Port).ExecuteAsync("CLUSTER", "NODES").ConfigureAwait(false);
                nodes = KvClusterNode.ParseNodes(reply.ToString());
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                await invocation.Error.WriteLineAsync($"blueprint: {endpoint} did not answer CLUSTER NODES: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        }

        // Every server by its own address, so each can be asked directly.
        using var multiplexer = await ConnectAsync(nodes.Select(node => node.Endpoint).Append(endpoint).Distinct()).ConfigureAwait(false);
        return await action(multiplexer, nodes, invocation.Output).ConfigureAwait(false);
    }

    private static Task<ConnectionMultiplexer> ConnectAsync(IEnumerable<ClusterEndpoint> endpoints)
    {
        var configuration = new ConfigurationOptions { AllowAdmin = true, AbortOnConnectFail = false, ConnectTimeout = CommandTimeoutMs, SyncTimeout = CommandTimeoutMs, AsyncTimeout = CommandTimeoutMs };
        foreach (var endpoint in endpoints)
        {
            configuration.EndPoints.Add(endpoint.Host, endpoint.Port);
        }

        return ConnectionMultiplexer.ConnectAsync(configuration);
    }
}
