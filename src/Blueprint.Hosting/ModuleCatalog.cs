namespace Blueprint.Hosting;

/// <summary>
/// The modules a build can run, in the order they are composed (a module after those it requires), and the tools
/// that add verbs. The executable holds one (<c>BlueprintCatalog</c>); a test can hold another with a module of its own.
/// </summary>
public sealed class ModuleCatalog
{
    /// <summary>The node's own HTTP listener, declared as the modules declare theirs.</summary>
    public static readonly ModuleListener HttpListener = new()
    {
        Name = "HTTP",
        ConfigKey = $"{NodeOptions.Section}:{nameof(NodeOptions.HttpPort)}",
        DefaultPort = 8080,
        Protocol = ListenerProtocol.Http1AndHttp2,
        Flag = "--http-port",
        Description = "HTTP port",
    };


    /// <summary>Creates a catalog.</summary>
    /// <param name="modules">Every module, each after the modules it requires.</param>
    /// <param name="tools">Verb sources that are not modules (<c>lab</c>, <c>sim</c>).</param>
    public ModuleCatalog(IEnumerable<IBlueprintModule> modules, IEnumerable<IVerbSource>? tools = null)
    {
        ArgumentNullException.ThrowIfNull(modules);
        Modules = [.. modules];
        Tools = [.. tools ?? []];
        Names = [.. Modules.Select(module => module.Name)];
        var duplicate = Names.GroupBy(name => name, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"module name '{duplicate.Key}' is in the catalog twice");
        }

        // Every flag of `run`: the node's, each listener's port flag, then each module's own; one flag sets one key.
        var flags = new List<ModuleFlag>
        {
            new("--data-dir", $"{NodeOptions.Section}:{nameof(NodeOptions.DataDir)}", "Directory for every module's files (default ./.blueprint)."),
            new("--bind", $"{NodeOptions.Section}:{nameof(NodeOptions.Bind)}", "Address every listener binds (default 127.0.0.1)."),
            ToFlag(HttpListener),
            new("--modules", $"{NodeOptions.Section}:{nameof(NodeOptions.Modules)}", $"Comma list of modules to run (default all: {string.Join(",", Names)})."),
            new("--log-format", $"{NodeOptions.Section}:{nameof(NodeOptions.LogFormat)}", "text or json (default text)."),
        };
        foreach (var module in Modules)
        {
            flags.AddRange(module.Listeners.Where(listener => listener.Flag is not null).Select(ToFlag));
            flags.AddRange(module.Flags);
        }

        var clash = flags.GroupBy(flag => flag.Flag, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (clash is not null)
        {
            throw new InvalidOperationException($"flag {clash.Key} is declared twice");
        }
        RunFlags = flags;
        KeyByFlag = flags.ToDictionary(flag => flag.Flag, flag => flag.ConfigKey, StringComparer.Ordinal);
        FlagByKey = flags.GroupBy(flag => flag.ConfigKey, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(group => group.Key, group => group.First().Flag, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Every module, in composition order.</summary>
    public IReadOnlyList<IBlueprintModule> Modules { get; }

    /// <summary>The verb sources that are not modules.</summary>
    public IReadOnlyList<IVerbSource> Tools { get; }

    /// <summary>The module names, in composition order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Every flag of <c>blueprint run</c>, in help order, with the key each sets.</summary>
    public IReadOnlyList<ModuleFlag> RunFlags { get; }

    /// <summary>The configuration key each flag sets.</summary>
    public IReadOnlyDictionary<string, string> KeyByFlag { get; }

    /// <summary>The flag that sets each configuration key, for error messages.</summary>
    public IReadOnlyDictionary<string, string> FlagByKey { get; }

    /// <summary>The modules named in a <c>--modules</c> list (empty: all), in composition order.</summary>
    public IReadOnlyList<IBlueprintModule> Select(IReadOnlyCollection<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return [.. Modules.Where(module => names.Count == 0 || names.Contains(module.Name))];
    }

    private static ModuleFlag ToFlag(ModuleListener listener) =>
        new(listener.Flag!, listener.ConfigKey, $"{listener.Description} (default {listener.DefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(listener.OffWhenZero ? "; 0 turns it off" : "")}).", IsPort: true);
}
