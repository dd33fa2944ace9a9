using System.CommandLine;
using Blueprint.Hosting;

namespace Blueprint.Node;

/// <summary>
/// The command line of <c>blueprint</c>: <c>run</c> (the default) with the node's flags and every listener's and module's
/// flags from the catalog, <c>version</c>, and the verbs the catalog's tools and modules contribute.
/// </summary>
public static class NodeCli
{
    /// <summary>Parses <paramref name="args"/> and runs the verb with this build's catalog; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args) => RunAsync(args, BlueprintCatalog.Create(), Console.Out, Console.Error);

    /// <summary>Parses <paramref name="args"/> and runs the verb; returns the process exit code.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="catalog">The modules and tools.</param>
    /// <param name="output">Where the banner, help and verbs' output go.</param>
    /// <param name="error">Where problems go.</param>
    public static async Task<int> RunAsync(string[] args, ModuleCatalog catalog, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var root = CreateRootCommand(catalog);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                await error.WriteLineAsync($"blueprint: {problem.Message}").ConfigureAwait(false);
            }

            return StartupFailure.ExitCode;
        }

        // The node handles SIGINT/SIGTERM itself (graceful drain); the parser must not cut it short.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, Output = output, Error = error }).ConfigureAwait(false);
    }

    /// <summary>Creates the root command of this build's catalog.</summary>
    public static RootCommand CreateRootCommand() => CreateRootCommand(BlueprintCatalog.Create());

    /// <summary>Creates the root command with every verb of <paramref name="catalog"/>; verbs write to the invocation's output.</summary>
    public static RootCommand CreateRootCommand(ModuleCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var run = CreateRunCommand(catalog, out var runOptions);
        var root = new RootCommand("Blueprint: the system-design cheat sheet made real. With no verb, runs a node.");
        foreach (var option in runOptions)
        {
            root.Options.Add(option);
        }

        root.SetAction((parse, cancellationToken) => RunNodeAsync(parse, catalog, runOptions, cancellationToken));
        root.Subcommands.Add(run);
        root.Subcommands.Add(CreateVersionCommand());
        foreach (var source in catalog.Tools.Concat<IVerbSource>(catalog.Modules))
        {
            foreach (var verb in source.CreateVerbs(catalog))
            {
                root.Subcommands.Add(verb);
            }
        }

        return root;
    }

    /// <summary>The flags of <c>run</c>: one per entry of the catalog's flag table; ports parse as numbers.</summary>
    private static Command CreateRunCommand(ModuleCatalog catalog, out IReadOnlyList<Option> options)
    {
        options = [.. catalog.RunFlags.Select(flag => flag.IsPort
            ? (Option)new Option<int>(flag.Flag) { Description = flag.Description }
            : new Option<string>(flag.Flag) { Description = flag.Description })];
        var run = new Command("run", "Run a node with the enabled modules.");
        foreach (var option in options)
        {
            run.Options.Add(option);
        }

        var bound = options;
        run.SetAction((parse, cancellationToken) => RunNodeAsync(parse, catalog, bound, cancellationToken));
        return run;
    }

    private static Command CreateVersionCommand()
    {
        var version = new Command("version", "Print the version.");
        version.SetAction(parse => parse.InvocationConfiguration.Output.WriteLine($"blueprint {BlueprintVersion.Current}"));
        return version;
    }

    /// <summary>Maps the flags that were given (and only those) onto configuration keys.</summary>
    internal static Dictionary<string, string?> ToOverrides(ParseResult parse, ModuleCatalog catalog, IReadOnlyList<Option> options)
    {
        var overrides = new Dictionary<string, string?>();
        foreach (var option in options)
        {
            var result = parse.GetResult(option);
            if (result is { Implicit: false } && result.Tokens.Count > 0)
            {
                overrides[catalog.KeyByFlag[option.Name]] = result.Tokens[^1].Value;
            }
        }

        return overrides;
    }

    private static async Task<int> RunNodeAsync(ParseResult parse, ModuleCatalog catalog, IReadOnlyList<Option> options, CancellationToken cancellationToken)
    {
        BlueprintNode? node = null;
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        try
        {
            node = BlueprintNode.Create(catalog, ToOverrides(parse, catalog, options));
            await node.StartAsync(cancellationToken).ConfigureAwait(false);
            NodeBanner.Write(output, node);
            using var orphaned = new CancellationTokenSource();
            var watch = ParentWatch.StopWhenParentExitsAsync(node, orphaned.Token);
            await node.App.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await orphaned.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (StartupFailure.Describe(e, catalog) is { } lines)
        {
            foreach (var line in lines)
            {
                await error.WriteLineAsync($"blueprint: {line}").ConfigureAwait(false);
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
