namespace Blueprint.Testing;

/// <summary>Runs the <c>blueprint</c> executable as a separate OS process, for tests that need exit codes, signals or kill -9.</summary>
public static class NodeProcess
{
    /// <summary>The built <c>blueprint.dll</c> beside the tests (a test project that runs the executable references the node project).</summary>
    public static string ExecutablePath { get; } = Path.Combine(AppContext.BaseDirectory, "blueprint.dll");

    /// <summary>Starts <c>dotnet blueprint.dll</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static ProcessRunner Start(IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new FileNotFoundException("the node executable is not built beside the tests", ExecutablePath);
        }

        // Every module listens, on default ports that would collide between parallel tests: each listener of the test
        // assembly's catalog gets a free port through the environment unless the caller chose (a flag beats the environment).
        var withPorts = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        foreach (var (key, port) in TestNode.FreeListenerPorts(TestNode.RequireCatalog()))
        {
            withPorts.TryAdd($"BLUEPRINT_{key.Replace(":", "__", StringComparison.Ordinal)}", port!);
        }

        return ProcessRunner.Start("dotnet", [ExecutablePath, .. arguments], workingDirectory, withPorts);
    }
}
