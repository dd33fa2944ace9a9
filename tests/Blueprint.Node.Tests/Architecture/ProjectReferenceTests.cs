using System.Xml.Linq;

namespace Blueprint.Node.Tests.Architecture;

/// <summary>
/// The reference rules of docs/architecture.md, checked on the project files of this checkout: Core references nothing of
/// ours, no module references another module, Lab and the simulator reference no module, the test infrastructure
/// references neither a module nor the executable.
/// </summary>
public sealed class ProjectReferenceTests
{
    [Fact]
    public void Projects_FollowTheReferenceRules()
    {
        var graph = ReadGraph(RepositoryRoot());
        Assert.Contains("src/Modules/Blueprint.Coordination", graph.Keys); // the graph was read, modules included
        Assert.Contains("src/Blueprint.Raft.Hosting", graph["src/Modules/Blueprint.Coordination"]);
        Assert.Empty(ReferenceRules.Violations(graph));
    }

    [Fact]
    public void Violations_ABrokenGraph_NamesEveryBrokenRule()
    {
        var graph = new Dictionary<string, IReadOnlyList<string>>
        {
            ["src/Blueprint.Core"] = ["src/Blueprint.Hosting"],
            ["src/Blueprint.Hosting"] = [],
            ["src/Blueprint.Lab"] = ["src/Blueprint.Core", "src/Modules/Blueprint.RateLimit"],
            ["src/Modules/Blueprint.Kv"] = ["src/Blueprint.Hosting"],
            ["src/Modules/Blueprint.RateLimit"] = ["src/Blueprint.Core", "src/Modules/Blueprint.Kv"],
            ["tests/Blueprint.Testing"] = ["src/Blueprint.Node"],
            ["src/Blueprint.Node"] = ["src/Modules/Blueprint.Kv", "src/Modules/Blueprint.RateLimit", "src/Blueprint.Lab"],
        };
        var violations = ReferenceRules.Violations(graph);
        Assert.Equal(
        [
            "src/Blueprint.Core references src/Blueprint.Hosting: Core references nothing of ours",
            "src/Blueprint.Lab references src/Modules/Blueprint.RateLimit: Lab and the simulator reference no module",
            "src/Modules/Blueprint.RateLimit references src/Modules/Blueprint.Kv: a module never references another module",
            "tests/Blueprint.Testing references src/Blueprint.Node: the test infrastructure references no module and not the executable",
        ], violations);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Blueprint.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Blueprint.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>Each project's folder (relative, with '/') and the folders of the projects it references.</summary>
    private static Dictionary<string, IReadOnlyList<string>> ReadGraph(string root)
    {
        var graph = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var project in Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var folder = Path.GetDirectoryName(project)!;
            var references = XDocument.Load(project).Descendants("ProjectReference")
                .Select(reference => reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar))
                .Select(include => Relative(root, Path.GetDirectoryName(Path.GetFullPath(Path.Combine(folder, include)))!))
                .ToList();
            graph[Relative(root, folder)] = references;
        }

        return graph;
    }

    private static string Relative(string root, string folder) => Path.GetRelativePath(root, folder).Replace(Path.DirectorySeparatorChar, '/');
}

/// <summary>The rules of docs/architecture.md over a project graph (project folder → referenced project folders).</summary>
internal static class ReferenceRules
{
    private const string Modules = "src/Modules/";

    public static List<string> Violations(IReadOnlyDictionary<string, IReadOnlyList<string>> graph)
    {
        var violations = new List<string>();
        foreach (var (project, references) in graph.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            foreach (var reference in references)
            {
                if (Broken(project, reference) is { } rule)
                {
                    violations.Add($"{project} references {reference}: {rule}");
                }
            }
        }

        return violations;
    }

    private static string? Broken(string project, string reference)
    {
        var ours = reference.StartsWith("src/", StringComparison.Ordinal) || reference.StartsWith("tests/", StringComparison.Ordinal);
        return project switch
        {
            "src/Blueprint.Core" or "src/Blueprint.Kv.Abstractions" or "src/Blueprint.Sql.Abstractions" or "src/Blueprint.Log.Abstractions" when ours =>
                project == "src/Blueprint.Core" ? "Core references nothing of ours" : "an engine abstraction references nothing of ours",
            "src/Blueprint.Lab" or "src/Blueprint.Simulation" when reference.StartsWith(Modules, StringComparison.Ordinal) =>
                "Lab and the simulator reference no module",
            _ when project.StartsWith(Modules, StringComparison.Ordinal) && reference.StartsWith(Modules, StringComparison.Ordinal) =>
                "a module never references another module",
            "tests/Blueprint.Testing" when reference.StartsWith(Modules, StringComparison.Ordinal) || reference == "src/Blueprint.Node" =>
                "the test infrastructure references no module and not the executable",
            _ when !project.StartsWith("src/Blueprint.Node", StringComparison.Ordinal) && !project.StartsWith("tests/", StringComparison.Ordinal)
                && !project.StartsWith("bench/", StringComparison.Ordinal) && reference == "src/Blueprint.Node" =>
                "only tests and benchmarks reference the executable",
            _ => null,
        };
    }
}
