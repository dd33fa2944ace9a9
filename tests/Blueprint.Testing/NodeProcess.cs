namespace Blueprint.Testing;

/// <summary>Runs the <c>blueprint</c> executable as a separate OS process, for tests that need exit codes, signals or kill -9.</summary>
public static class NodeProcess
{
    /// <summary>The built <c>blueprint.dll</c> beside the tests (the test project references the node).</summary>
    public static string ExecutablePath { get; } = Path.Combine(AppContext.BaseDirectory, "blueprint.dll");

    /// <summary>Starts <c>dotnet blueprint.dll</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static ProcessRunner Start(IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new FileNotFoundException("the node executable is not built beside the tests", ExecutablePath);
        }

        // Every module listens; the coordination module's default ports (etcd's 2379/2380) would collide between
        // parallel tests, so they get free ones unless the caller chose (a flag beats the environment).
        var withPorts = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        withPorts.TryAdd("BLUEPRINT_Coordination__EtcdPort", FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
        withPorts.TryAdd("BLUEPRINT_Coordination__RaftPort", FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ProcessRunner.Start("dotnet", [ExecutablePath, .. arguments], workingDirectory, withPorts);
    }
}
