using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Blueprint.Hosting;

namespace Blueprint.Coordination;

/// <summary>
/// <c>blueprint cluster up --nodes N</c>: starts N local node processes running the coordination module and every other
/// module that takes part in clusters (<see cref="IBlueprintModule.PlanClusterMember"/>, the log among them), each with
/// its own data directory and ports, prints their endpoints, and stops them on Ctrl-C or SIGTERM. Node i (from 1) serves
/// the etcd API on <c>--etcd-port + 2(i-1)</c>, Raft on the port after it, HTTP on <c>--http-port + (i-1)</c>, and
/// each other module's listener on its base port (its flag, for example <c>--kafka-port</c>) + 10(i-1).
/// Exit 0 after a clean stop, 1 when a node could not start, 2 for a bad argument.
/// </summary>
internal static class ClusterCommand
{
    private const int UsageErrorExitCode = 2;
    private const int NodesMax = 7;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    public static Command Create(ModuleCatalog catalog)
    {
        var probe = new ClusterMember(1, 1, "127.0.0.1", listener => listener.DefaultPort);
        var joined = catalog.Modules.Where(module => module.Name != CoordinationNames.Module && module.PlanClusterMember(probe) is not null).ToList();
        var basePorts = joined
            .SelectMany(module => module.Listeners)
            .Where(listener => listener.Flag is not null && listener.DefaultPort > 0)
            .Select(listener => (Listener: listener, Option: new Option<string?>(listener.Flag!)
            {
                Description = $"{listener.Description} on the first member; member i uses this + {ClusterMember.PortStride}(i-1) (default {listener.DefaultPort.ToString(CultureInfo.InvariantCulture)}).",
            }))
            .ToList();
        Option<string?> nodes = new("--nodes") { Description = "How many members, 1 to 7 (default 3)." };
        Option<string?> dataDir = new("--data-dir") { Description = "Parent of the members' data directories (default ./.blueprint/cluster)." };
        Option<string?> etcdPort = new("--etcd-port") { Description = "etcd API port of the first member; member i uses this + 2(i-1), and Raft the port after it (default 2379)." };
        Option<string?> httpPort = new("--http-port") { Description = "HTTP port of the first member; member i uses this + i - 1 (default 8080)." };
        var up = new Command("up", "Start a local cluster of coordination members as separate processes; Ctrl-C stops them.");
        up.Options.Add(nodes);
        up.Options.Add(dataDir);
        up.Options.Add(etcdPort);
        up.Options.Add(httpPort);
        foreach (var (_, option) in basePorts)
        {
            up.Options.Add(option);
        }

        up.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            if (!TryParse(parse.GetValue(nodes), "--nodes", 1, NodesMax, 3, stderr, out int count)
                || !TryParse(parse.GetValue(etcdPort), "--etcd-port", 1, 65_535 - (2 * NodesMax), 2379, stderr, out int firstEtcdPort)
                || !TryParse(parse.GetValue(httpPort), "--http-port", 1, 65_535 - NodesMax, 8080, stderr, out int firstHttpPort))
            {
                return UsageErrorExitCode;
            }

            var bases = new Dictionary<ModuleListener, int>();
            foreach (var (listener, option) in basePorts)
            {
                if (!TryParse(parse.GetValue(option), listener.Flag!, 1, 65_535 - (ClusterMember.PortStride * NodesMax), listener.DefaultPort, stderr, out int port))
                {
                    return UsageErrorExitCode;
                }

                bases[listener] = port;
            }

            var root = Path.GetFullPath(parse.GetValue(dataDir) ?? Path.Combine(".blueprint", "cluster"));
            var members = Enumerable.Range(1, count).Select(i =>
            {
                var place = new ClusterMember(i, count, "127.0.0.1", listener => bases.TryGetValue(listener, out var port) ? port : listener.DefaultPort);
                return new Member(
                    $"n{i.ToString(CultureInfo.InvariantCulture)}",
                    firstEtcdPort + (2 * (i - 1)),
                    firstEtcdPort + (2 * (i - 1)) + 1,
                    firstHttpPort + i - 1,
                    Path.Combine(root, $"n{i.ToString(CultureInfo.InvariantCulture)}"),
                    [.. joined.Select(module => (module.Name, module.PlanClusterMember(place)!))]);
            }).ToList();
            return await UpAsync(members, stdout, stderr, cancellationToken).ConfigureAwait(false);
        });

        var cluster = new Command("cluster", "Run a local multi-process cluster.");
        cluster.Subcommands.Add(up);
        return cluster;
    }

    private static async Task<int> UpAsync(List<Member> members, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var initialCluster = string.Join(',', members.Select(member => $"{member.Name}=http://127.0.0.1:{member.RaftPort.ToString(CultureInfo.InvariantCulture)}"));
        var running = new List<(Member Member, Process Process)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            foreach (var member in members)
            {
                Directory.CreateDirectory(member.DataDir);
                running.Add((member, Launch(member, initialCluster)));
            }

            using var startDeadline = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            startDeadline.CancelAfter(StartTimeout);
            foreach (var (member, process) in running)
            {
                var ready = true;
                foreach (var port in member.Plans.Select(plan => plan.Plan.ReadyPort).OfType<int>().Prepend(member.EtcdPort))
                {
                    ready = ready && await WaitListeningAsync(port, process, startDeadline.Token).ConfigureAwait(false);
                }

                if (!ready)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return 0;
                    }

                    await stderr.WriteLineAsync($"blueprint: member {member.Name} did not start (exit code {(process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "none, still starting")}); see {member.LogPath}").ConfigureAwait(false);
                    return 1;
                }
            }

            await stdout.WriteLineAsync($"cluster up: {members.Count} members").ConfigureAwait(false);
            foreach (var (member, process) in running)
            {
                await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  {member.Name}  etcd http://127.0.0.1:{member.EtcdPort}  raft http://127.0.0.1:{member.RaftPort}  http http://127.0.0.1:{member.HttpPort}{string.Concat(member.Plans.Select(plan => "  " + plan.Plan.Summary))}  pid {process.Id}  log {member.LogPath}")).ConfigureAwait(false);
            }

            var endpoints = string.Join(',', members.Select(member => $"127.0.0.1:{member.EtcdPort.ToString(CultureInfo.InvariantCulture)}"));
            await stdout.WriteLineAsync($"try: ETCDCTL_API=3 etcdctl --endpoints={endpoints} endpoint status -w table").ConfigureAwait(false);
            await stdout.WriteLineAsync("Ctrl-C stops every member.").ConfigureAwait(false);
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            var exits = running.Select(async entry =>
            {
                await entry.Process.WaitForExitAsync(stop.Token).ConfigureAwait(false);
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"blueprint: member {entry.Member.Name} exited with code {entry.Process.ExitCode}; the others keep running (see {entry.Member.LogPath})")).ConfigureAwait(false);
            }).ToList();
            try
            {
                await Task.WhenAll(exits).ConfigureAwait(false);
                return 1; // every member died on its own
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
        finally
        {
            await StopAllAsync(running.Select(entry => entry.Process).ToList()).ConfigureAwait(false);
            foreach (var (_, process) in running)
            {
                process.Dispose();
            }
        }
    }

    private static Process Launch(Member member, string initialCluster)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        start.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // `dotnet blueprint.dll`: the executable's own assembly, not this module's.
            start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("the path of this executable is unknown"));
        }

        string[] arguments =
        [
            "run",
            "--modules", string.Join(',', member.Plans.Select(plan => plan.Module).Prepend(CoordinationNames.Module)),
            "--node-id", member.Name,
            "--initial-cluster", initialCluster,
            "--etcd-port", member.EtcdPort.ToString(CultureInfo.InvariantCulture),
            "--raft-port", member.RaftPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", member.HttpPort.ToString(CultureInfo.InvariantCulture),
            "--data-dir", member.DataDir,
        ];
        foreach (var argument in arguments.Concat(member.Plans.SelectMany(plan => plan.Plan.Arguments)))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[ParentWatch.Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"member {member.Name} could not be started");
        var log = new StreamWriter(member.LogPath, append: true) { AutoFlush = true };
        var gate = new Lock();
        var open = 2; // stdout and stderr: the log closes after both ended, so a dying member's last lines are kept
        process.OutputDataReceived += (_, line) => Write(line.Data);
        process.ErrorDataReceived += (_, line) => Write(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;

        void Write(string? line)
        {
            lock (gate)
            {
                if (line is not null)
                {
                    log.WriteLine(line);
                }
                else if (--open == 0)
                {
                    log.Dispose();
                }
            }
        }
    }

    private static async Task<bool> WaitListeningAsync(int port, Process process, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && !process.HasExited)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return false;
    }

    private static async Task StopAllAsync(List<Process> processes)
    {
        foreach (var process in processes.Where(process => !process.HasExited))
        {
            // A graceful stop: the member drains and closes its WAL, as on Ctrl-C in its own terminal.
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            kill?.WaitForExit(1_000);
        }

        using var deadline = new CancellationTokenSource(StopTimeout);
        foreach (var process in processes)
        {
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static bool TryParse(string? text, string flag, int min, int max, int fallback, TextWriter stderr, out int value)
    {
        if (text is null)
        {
            value = fallback;
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }

        stderr.WriteLine($"blueprint: {flag} must be a number from {min} to {max}, got '{text}'");
        return false;
    }

    private sealed record Member(string Name, int EtcdPort, int RaftPort, int HttpPort, string DataDir, IReadOnlyList<(string Module, ClusterMemberPlan Plan)> Plans)
    {
        public string LogPath => Path.Combine(DataDir, "node.log");
    }
}
