namespace Blueprint.Hosting;

/// <summary>The start-up banner: every endpoint and the data directory, so a newcomer knows where to point a client.</summary>
public static class NodeBanner
{
    /// <summary>Writes the banner of a started <paramref name="node"/>.</summary>
    public static void Write(TextWriter output, BlueprintNode node)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(node);
        output.WriteLine($"Blueprint {BlueprintVersion.Current} node started (modules: {string.Join(", ", node.Modules.Select(module => module.Name))})");
        output.WriteLine($"  data dir  {node.DataDirectoryPath}");
        foreach (var (module, endpoint) in node.DescribeEndpoints())
        {
            var hint = endpoint.Hint.Length > 0 ? $"   ({endpoint.Hint})" : "";
            output.WriteLine($"  {module,-9}  {endpoint.Name}: {endpoint.Address}{hint}");
        }

        output.WriteLine("Press Ctrl-C to stop.");
        output.Flush();
    }
}
