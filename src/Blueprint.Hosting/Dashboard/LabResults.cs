using System.Text.Json;
using System.Text.RegularExpressions;

namespace Blueprint.Hosting.Dashboard;

/// <summary>
/// The lab results in one directory, as <c>blueprint lab &lt;name&gt;</c> writes them: <c>&lt;name&gt;.md</c> (the report),
/// <c>&lt;name&gt;.json</c> (its claims, each with <c>holds</c>) and <c>&lt;name&gt;.png</c> (the plot). A result is a
/// markdown file; its JSON and plot are optional. Names are file names without a path: anything else is refused.
/// </summary>
public sealed partial class LabResults
{
    /// <summary>Creates a reader of <paramref name="directory"/> (relative to the working directory unless absolute).</summary>
    public LabResults(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The directory read, absolute.</summary>
    public string Directory { get; }

    /// <summary>Why <paramref name="name"/> cannot name a result (a path, an empty or odd name), or null when it can.</summary>
    public static string? RefuseName(string name) =>
        name is not null && Name().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal)
            ? null
            : $"'{name}' is not a lab result name: a name is letters, digits, '-', '_' and '.' (up to 100), never a path";

    /// <summary>Every result in the directory, by name; empty when the directory does not exist.</summary>
    public IReadOnlyList<LabResultSummary> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        return
        [
            .. System.IO.Directory.EnumerateFiles(Directory, "*.md")
                .Select(Path.GetFileNameWithoutExtension)
                .Where(name => name is not null && RefuseName(name) is null)
                .Order(StringComparer.Ordinal)
                .Select(name => Read(name!))
                .OfType<LabResult>()
                .Select(result => result.Summary),
        ];
    }

    /// <summary>One result, or null when there is none of that name.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is refused (<see cref="RefuseName"/>).</exception>
    public LabResult? Read(string name)
    {
        if (RefuseName(name) is { } reason)
        {
            throw new ArgumentException(reason, nameof(name));
        }

        var markdownPath = PathOf(name, ".md");
        if (!File.Exists(markdownPath))
        {
            return null;
        }

        var markdown = File.ReadAllText(markdownPath);
        var (title, summary) = TitleAndSummary(markdown, name);
        var summaryRecord = new LabResultSummary(
            name,
            title,
            summary,
            Claims(PathOf(name, ".json")),
            File.Exists(PathOf(name, ".png")),
            new DateTimeOffset(File.GetLastWriteTimeUtc(markdownPath), TimeSpan.Zero));
        return new LabResult(summaryRecord, markdown);
    }

    /// <summary>The path of the result's plot, or null when it has none.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is refused (<see cref="RefuseName"/>).</exception>
    public string? PlotPath(string name)
    {
        if (RefuseName(name) is { } reason)
        {
            throw new ArgumentException(reason, nameof(name));
        }

        var path = PathOf(name, ".png");
        return File.Exists(path) ? path : null;
    }

    /// <summary>A file of the directory; the name is checked already, and the path is checked again to be inside it.</summary>
    private string PathOf(string name, string extension)
    {
        var path = Path.GetFullPath(Path.Combine(Directory, name + extension));
        return string.Equals(Path.GetDirectoryName(path), Path.TrimEndingDirectorySeparator(Directory), StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"'{name}' is not a lab result name: it leaves the results directory", nameof(name));
    }

    /// <summary>The first <c>#</c> heading, and the first paragraph of prose after it.</summary>
    internal static (string Title, string Summary) TitleAndSummary(string markdown, string fallback)
    {
        var title = fallback;
        var paragraph = new List<string>();
        var seenTitle = false;
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (!seenTitle && line.StartsWith("# ", StringComparison.Ordinal))
            {
                title = line[2..].Trim();
                seenTitle = true;
                continue;
            }

            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith('|') || line.StartsWith("```", StringComparison.Ordinal))
            {
                if (paragraph.Count > 0)
                {
                    break;
                }

                continue;
            }

            paragraph.Add(line);
        }

        return (title, string.Join(' ', paragraph));
    }

    /// <summary>How many of the claims in the result's JSON hold, or null without a readable one.</summary>
    private static ClaimCount? Claims(string jsonPath)
    {
        if (!File.Exists(jsonPath))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(jsonPath));
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("claims", out var claims)
                || claims.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var total = claims.GetArrayLength();
            var held = claims.EnumerateArray().Count(claim =>
                claim.ValueKind == JsonValueKind.Object && claim.TryGetProperty("holds", out var holds) && holds.ValueKind == JsonValueKind.True);
            return new ClaimCount(held, total);
        }
        catch (JsonException)
        {
            return null; // a result whose JSON is not readable still shows its report
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex Name();
}

/// <summary>One lab result in a listing.</summary>
/// <param name="Name">Its name (the file names without extension).</param>
/// <param name="Title">The report's first heading.</param>
/// <param name="Summary">The report's first paragraph.</param>
/// <param name="Claims">How many of its claims hold, when its JSON says.</param>
/// <param name="HasPlot">Whether it has a plot (<c>GET /api/lab/{name}/plot</c>).</param>
/// <param name="Written">When the report was written.</param>
public sealed record LabResultSummary(string Name, string Title, string Summary, ClaimCount? Claims, bool HasPlot, DateTimeOffset Written);

/// <summary>How many claims of a result hold.</summary>
/// <param name="Held">The claims that hold.</param>
/// <param name="Total">Every claim.</param>
public sealed record ClaimCount(int Held, int Total);

/// <summary>One lab result: its summary and its report.</summary>
/// <param name="Summary">What the listing shows.</param>
/// <param name="Markdown">The report, as markdown.</param>
public sealed record LabResult(LabResultSummary Summary, string Markdown);
