using System.CommandLine;
using Blueprint.Hosting;
using Blueprint.Lab;

namespace Blueprint.Node;

/// <summary>The command line of <c>blueprint</c>: <c>run</c> (the default), <c>version</c>, <c>lab</c>, <c>shortener</c>, <c>sim</c> and <c>cluster</c>.</summary>
public static class NodeCli
{
    /// <summary>Parses <paramref name="args"/> and runs the verb; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = CreateRootCommand();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"blueprint: {error.Message}").ConfigureAwait(false);
            }

            return StartupFailure.ExitCode;
        }

        // The node handles SIGINT/SIGTERM itself (graceful drain); the parser must not cut it short.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }

    /// <summary>Creates the root command with every verb.</summary>
    public static RootCommand CreateRootCommand()
    {
        var run = CreateRunCommand(out var runOptions);
        var root = new RootCommand("Blueprint: the system-design cheat sheet made real. With no verb, runs a node.");
        foreach (var option in runOptions)
        {
            root.Options.Add(option);
        }

        root.SetAction((parse, cancellationToken) => RunNodeAsync(parse, runOptions, cancellationToken));
        root.Subcommands.Add(run);
        root.Subcommands.Add(CreateVersionCommand());
        root.Subcommands.Add(LabCommand.Create());
        root.Subcommands.Add(ShortenerCommand.Create());
        root.Subcommands.Add(SimCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        return root;
    }

    private static Command CreateRunCommand(out IReadOnlyList<Option> options)
    {
        options =
        [
            new Option<string>("--data-dir") { Description = "Directory for every module's files (default ./.blueprint)." },
            new Option<string>("--bind") { Description = "Address every listener binds (default 127.0.0.1)." },
            new Option<int>("--http-port") { Description = "HTTP port (default 8080)." },
            new Option<int>("--resp-port") { Description = "RESP (Redis protocol) port of the kv module (default 6379)." },
            new Option<string>("--modules") { Description = $"Comma list of modules to run (default all: {string.Join(",", ModuleCatalog.Names)})." },
            new Option<string>("--log-format") { Description = "text or json (default text)." },
            new Option<int>("--etcd-port") { Description = "etcd v3 gRPC port of the coordination module (default 2379)." },
            new Option<int>("--raft-port") { Description = "Raft peer port of the coordination module (default 2380)." },
            new Option<string>("--node-id") { Description = "This member's name in --initial-cluster (default n1)." },
            new Option<string>("--initial-cluster") { Description = "Every member as name=http://host:raftport, comma separated, as etcd's flag (default: this node alone)." },
            new Option<string>("--initial-cluster-state") { Description = "new (bootstrap) or existing (join a cluster this member was added to); default new." },
            new Option<string>("--member-id") { Description = "With --initial-cluster-state existing: the id member add printed for this member (hex)." },
        ];
        var run = new Command("run", "Run a node with the enabled modules.");
        foreach (var option in options)
        {
            run.Options.Add(option);
        }

        var bound = options;
        run.SetAction((parse, cancellationToken) => RunNodeAsync(parse, bound, cancellationToken));
        return run;
    }

    private static Command CreateVersionCommand()
    {
        var version = new Command("version", "Print the version.");
        version.SetAction(_ => Console.WriteLine($"blueprint {BlueprintVersion.Current}"));
        return version;
    }

    /// <summary>Maps the flags that were given (and only those) onto configuration keys.</summary>
    internal static Dictionary<string, string?> ToOverrides(ParseResult parse, IReadOnlyList<Option> options)
    {
        var overrides = new Dictionary<string, string?>();
        foreach (var option in options)
        {
            var result = parse.GetResult(option);
            if (result is { Implicit: false } && result.Tokens.Count > 0)
            {
                overrides[NodeFlags.KeyByFlag[option.Name]] = result.Tokens[^1].Value;
            }
        }

        return overrides;
    }

    private static async Task<int> RunNodeAsync(ParseResult parse, IReadOnlyList<Option> options, CancellationToken cancellationToken)
    {
        BlueprintNode? node = null;
        try
        {
            node = BlueprintNode.Create(ToOverrides(parse, options));
            await node.StartAsync(cancellationToken).ConfigureAwait(false);
            Banner.Write(Console.Out, node);
            using var orphaned = new CancellationTokenSource();
            var watch = ParentWatch.StopWhenParentExitsAsync(node, orphaned.Token);
            await node.App.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await orphaned.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (StartupFailure.Describe(e) is { } lines)
        {
            foreach (var line in lines)
            {
                await Console.Error.WriteLineAsync($"blueprint: {line}").ConfigureAwait(false);
            }

            return StartupFailure.ExitCode;
        }
        finally
        {
            if (node is not null)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
