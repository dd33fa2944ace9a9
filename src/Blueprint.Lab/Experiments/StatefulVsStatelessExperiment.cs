using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;

using Blueprint.Lab.Experiments.Messaging;
using Blueprint.Lab.Processes;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using StackExchange.Redis;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// Sticky sessions vs shared state when a node dies. Three app nodes (Kestrel in the lab process) serve a cart: each
/// request adds an item to the user's session and answers the session's count. <b>Stateful</b>: each node keeps its
/// sessions in its own memory and the balancer pins a user to one node (a sticky cookie), re-pinning only when that
/// node fails. <b>Stateless</b>: the sessions live in a <c>blueprint run --modules kv</c> node (INCR over RESP) and the
/// balancer sends each request to the next live node. Halfway through, one app node is stopped; a request that fails
/// is retried on another node (the balancer drops a node after its first failure, as a passive health check would).
/// A user whose count falls behind the items it added has lost its session.
/// </summary>
public sealed partial class StatefulVsStatelessExperiment : AsyncExperiment
{
    private const string ExperimentName = "stateful-vs-stateless";

    /// <summary>The app nodes; the second one is stopped.</summary>
    private const int Nodes = 3;

    private const int Victim = 1;

    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long the users past halfway wait for the stopped node's graceful stop (its requests in flight end first).</summary>
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    public override string Name => ExperimentName;

    /// <inheritdoc/>
    public override string Description => "Sticky sessions in each node's memory vs sessions in a shared KV when one of three app nodes dies: sessions lost, failed requests, latency, load spread.";

    /// <inheritdoc/>
    protected override async Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        Sizes sizes = options.Quick ? Sizes.Quick : Sizes.Full;
        using CancellationTokenSource deadline = new(RunDeadline);
        using KvNodeProcess store = await KvNodeProcess.StartAsync(options.Environment, deadline.Token).ConfigureAwait(false);
        using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { store.Endpoint },
            ConnectTimeout = 10_000,
            SyncTimeout = 10_000,
            AsyncTimeout = 10_000,
        }).ConfigureAwait(false);
        ProgressSteps steps = new(progress, 2);
        ModeRun stateful = await MeasureAsync(stateless: false, sizes, redis.GetDatabase(), deadline.Token).ConfigureAwait(false);
        steps.Step();
        ModeRun stateless = await MeasureAsync(stateless: true, sizes, redis.GetDatabase(), deadline.Token).ConfigureAwait(false);
        steps.Step();
        return Report(sizes, stateful, stateless);
    }

    private static async Task<ModeRun> MeasureAsync(bool stateless, Sizes sizes, IDatabase store, CancellationToken cancellationToken)
    {
        string prefix = $"lab-cart-{Guid.NewGuid():N}:";
        LoopbackWebHost?[] nodes = new LoopbackWebHost?[Nodes];
        HttpClient[] clients = new HttpClient[Nodes];
        long[] servedBefore = new long[Nodes];
        long[] servedAfter = new long[Nodes];
        try
        {
            for (int i = 0; i < Nodes; i++)
            {
                ConcurrentDictionary<string, int> memory = new(StringComparer.Ordinal);
                nodes[i] = await LoopbackWebHost.StartAsync(app => app.MapPost("/cart/add", async (HttpContext context) =>
                {
                    string session = context.Request.Query["session"].ToString();
                    long count = stateless
                        ? await store.StringIncrementAsync(prefix + session).ConfigureAwait(false)
                        : memory.AddOrUpdate(session, 1, (_, items) => items + 1);
                    return count.ToString(CultureInfo.InvariantCulture);
                }), cancellationToken).ConfigureAwait(false);
                clients[i] = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = nodes[i]!.BaseAddress, Timeout = RequestTimeout };
            }

            Balancer balancer = new(stateless);
            long total = (long)sizes.Users * sizes.RequestsPerUser;
            long done = 0;
            TaskCompletionSource halfway = new(TaskCreationOptions.RunContinuationsAsynchronously);
            TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Task killing = Task.Run(
                async () =>
                {
                    await halfway.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                    await nodes[Victim]!.DisposeAsync().ConfigureAwait(false);
                    nodes[Victim] = null;
                    stopped.SetResult();
                },
                cancellationToken);
            ConcurrentBag<double> latenciesUs = [];
            UserResult[] users = await Task.WhenAll(Enumerable.Range(0, sizes.Users).Select(user => Task.Run(
                async () =>
                {
                    string session = user.ToString(CultureInfo.InvariantCulture);
                    long expected = 0;
                    int failures = 0;
                    bool lost = false;
                    for (int request = 0; request < sizes.RequestsPerUser; request++)
                    {
                        // Past halfway, nobody goes on until the node has stopped: the stop falls mid-run for every user.
                        if (halfway.Task.IsCompleted)
                        {
                            await stopped.Task.WaitAsync(StopDeadline, cancellationToken).ConfigureAwait(false);
                        }

                        while (true)
                        {
                            int node = balancer.Pick(user);
                            long started = Stopwatch.GetTimestamp();
                            try
                            {
                                using HttpResponseMessage response = await clients[node].PostAsync(new Uri($"/cart/add?session={session}", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
                                _ = response.EnsureSuccessStatusCode();
                                long count = long.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                                latenciesUs.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                                _ = Interlocked.Increment(ref (stopped.Task.IsCompleted ? ref servedAfter[node] : ref servedBefore[node]));
                                expected++;
                                lost |= count < expected; // behind what it added; an INCR retried after a timeout may count twice, which loses nothing
                                expected = count;
                                break;
                            }
                            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                            {
                                failures++;
                                balancer.Fail(node);
                            }
                        }

                        if (Interlocked.Increment(ref done) == total / 2)
                        {
                            halfway.SetResult();
                        }
                    }

                    return new UserResult(Balancer.Home(user), lost, failures, expected);
                },
                cancellationToken))).ConfigureAwait(false);
            await killing.ConfigureAwait(false);
            List<double> latencies = [.. latenciesUs];
            return new ModeRun(stateless, users, servedBefore, servedAfter, Pacing.Percentile(latencies, 0.50), Pacing.Percentile(latencies, 0.99));
        }
        finally
        {
            foreach (HttpClient client in clients.OfType<HttpClient>())
            {
                client.Dispose();
            }

            foreach (LoopbackWebHost? node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// The load balancer as the users' routing: sticky pins a user to its home node (user mod nodes) and, once that node
    /// failed, to a live one; otherwise each request goes to the next live node. A node is dropped after its first failure.
    /// </summary>
    private sealed class Balancer(bool roundRobin)
    {
        private readonly bool[] _dead = new bool[Nodes];
        private int _next = -1;

        public static int Home(int user) => user % Nodes;

        public int Pick(int user)
        {
            if (roundRobin)
            {
                for (int step = 0; step < Nodes; step++)
                {
                    int node = (int)((uint)Interlocked.Increment(ref _next) % Nodes);
                    if (!Volatile.Read(ref _dead[node]))
                    {
                        return node;
                    }
                }

                throw new InvalidOperationException("every app node failed");
            }

            int home = Home(user);
            for (int step = 0; step < Nodes; step++)
            {
                int node = (home + step) % Nodes;
                if (!Volatile.Read(ref _dead[node]))
                {
                    return node;
                }
            }

            throw new InvalidOperationException("every app node failed");
        }

        public void Fail(int node) => Volatile.Write(ref _dead[node], true);
    }

    private sealed record Sizes(int Users, int RequestsPerUser)
    {
        public static readonly Sizes Full = new(300, 40);

        public static readonly Sizes Quick = new(60, 20);
    }

    private sealed record UserResult(int Home, bool Lost, int Failures, long FinalCount);

    private sealed record ModeRun(bool Stateless, UserResult[] Users, long[] ServedBefore, long[] ServedAfter, double P50Us, double P99Us)
    {
        public int Lost => Users.Count(user => user.Lost);

        public int Failures => Users.Sum(user => user.Failures);

        public int HomedOnVictim => Users.Count(user => user.Home == Victim);
    }
}
