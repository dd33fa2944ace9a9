using Blueprint.Hosting;

namespace Blueprint.Node;

/// <summary>The start-up banner: every endpoint and the data directory, so a newcomer knows where to point a client.</summary>
internal static class Banner
{
    public static void Write(TextWriter output, BlueprintNode node)
    {
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
