using System.Net;
using System.Text.Json;
using Blueprint.Hosting.Dashboard;

namespace Blueprint.Node.Tests.Hosting;

/// <summary><c>GET /api/lab</c>, <c>/api/lab/{name}</c> and <c>/api/lab/{name}/plot</c> over a results directory, and names that are paths refused.</summary>
public sealed class LabResultsTests : IAsyncLifetime
{
    private const string Report = """
        # Lab: demo

        Ten items inserted,
        ten probed. Seed 7.

        ## Claims

        | claim | verdict |
        |---|---|
        | one | holds |
        """;

    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    private readonly TempDirectory _root = new("blueprint-lab");
    private TestNode _node = null!;

    private string Results => Path.Combine(_root.Path, "results");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Results);
        await File.WriteAllTextAsync(Path.Combine(Results, "demo.md"), Report, Token);
        await File.WriteAllTextAsync(Path.Combine(Results, "demo.json"), """{"claims":[{"holds":true},{"holds":false},{"holds":true}]}""", Token);
        await File.WriteAllBytesAsync(Path.Combine(Results, "demo.png"), Png, Token);
        await File.WriteAllTextAsync(Path.Combine(Results, "bare.md"), "No heading here.\n", Token);
        await File.WriteAllTextAsync(Path.Combine(Results, "broken.md"), "# Broken JSON\n", Token);
        await File.WriteAllTextAsync(Path.Combine(Results, "broken.json"), "{not json", Token);
        await File.WriteAllTextAsync(Path.Combine(Results, "notes.txt"), "not a result", Token);
        // Beside the results directory, where a name that is a path would reach.
        await File.WriteAllTextAsync(Path.Combine(_root.Path, "secret.md"), "# Secret\n", Token);
        _node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv", ["Node:LabResultsDir"] = Results }, cancellationToken: Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task List_GivesEachReportsTitleSummaryVerdictAndPlot_ByName()
    {
        using var body = await GetJsonAsync("/api/lab");
        Assert.Equal(Path.GetFullPath(Results), body.RootElement.GetProperty("directory").GetString());
        var results = body.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["bare", "broken", "demo"], results.Select(result => result.GetProperty("name").GetString()));

        var demo = results[2];
        Assert.Equal("Lab: demo", demo.GetProperty("title").GetString());
        Assert.Equal("Ten items inserted, ten probed. Seed 7.", demo.GetProperty("summary").GetString());
        Assert.Equal(2, demo.GetProperty("claims").GetProperty("held").GetInt32());
        Assert.Equal(3, demo.GetProperty("claims").GetProperty("total").GetInt32());
        Assert.True(demo.GetProperty("hasPlot").GetBoolean());

        Assert.Equal("bare", results[0].GetProperty("title").GetString()); // no heading: the name
        Assert.Equal("No heading here.", results[0].GetProperty("summary").GetString());
        Assert.False(results[0].GetProperty("hasPlot").GetBoolean());
        Assert.Equal(JsonValueKind.Null, results[1].GetProperty("claims").ValueKind); // unreadable JSON: the report still shows
    }

    [Fact]
    public async Task OneResult_GivesItsMarkdownAndPlot()
    {
        using var body = await GetJsonAsync("/api/lab/demo");
        Assert.Equal(Report, body.RootElement.GetProperty("markdown").GetString());
        Assert.Equal("/api/lab/demo/plot", body.RootElement.GetProperty("plot").GetString());
        Assert.Equal("demo", body.RootElement.GetProperty("summary").GetProperty("name").GetString());

        var plot = await _node.Http.GetAsync("/api/lab/demo/plot", Token);
        Assert.Equal(HttpStatusCode.OK, plot.StatusCode);
        Assert.Equal("image/png", plot.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Png, await plot.Content.ReadAsByteArrayAsync(Token));

        using var bare = await GetJsonAsync("/api/lab/bare");
        Assert.Equal(JsonValueKind.Null, bare.RootElement.GetProperty("plot").ValueKind);
    }

    [Theory]
    [InlineData("/api/lab/missing")]
    [InlineData("/api/lab/bare/plot")]
    [InlineData("/api/lab/notes")]
    public async Task NoSuchResult_Is404ProblemNamingTheDirectory(string path)
    {
        var response = await _node.Http.GetAsync(path, Token);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.Contains(Path.GetFullPath(Results), problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/lab/..%2Fsecret")]
    [InlineData("/api/lab/..%2Fsecret/plot")]
    [InlineData("/api/lab/%2Fetc%2Fpasswd")]
    [InlineData("/api/lab/..%5Csecret")]
    [InlineData("/api/lab/.hidden")]
    [InlineData("/api/lab/a..b")]
    public async Task NameThatIsAPath_Is400ProblemSayingWhy(string path)
    {
        var response = await _node.Http.GetAsync(path, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("invalid lab result name", problem.RootElement.GetProperty("title").GetString());
        Assert.Contains("never a path", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_RefusesPathsItself_NotOnlyAtTheEndpoint()
    {
        var lab = new LabResults(Results);
        foreach (var name in new[] { "../secret", "..", "", "a/b", "a\\b", "/etc/passwd", ".md" })
        {
            Assert.NotNull(LabResults.RefuseName(name));
            Assert.Throws<ArgumentException>(() => lab.Read(name));
            Assert.Throws<ArgumentException>(() => lab.PlotPath(name));
        }

        Assert.Null(LabResults.RefuseName("batch-vs-stream"));
        Assert.Null(LabResults.RefuseName("raft_v2.1"));
        Assert.Null(lab.Read("absent"));
    }

    [Fact]
    public async Task MissingDirectory_ListsNothing()
    {
        var missing = Path.Combine(_root.Path, "nowhere");
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv", ["Node:LabResultsDir"] = missing }, cancellationToken: Token);
        using var body = JsonDocument.Parse(await node.Http.GetStringAsync(new Uri("/api/lab", UriKind.Relative), Token));
        Assert.Equal(missing, body.RootElement.GetProperty("directory").GetString());
        Assert.Empty(body.RootElement.GetProperty("results").EnumerateArray());
    }

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        var response = await _node.Http.GetAsync(path, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text);
    }
}
