using System.CommandLine;
using System.Text.Json;

using Blueprint.Lab.Experiments;
using Blueprint.Testing;

namespace Blueprint.Lab.Tests;

public sealed class LabCommandTests : IDisposable
{
    private readonly string _outputDirectory = Path.Combine(Path.GetTempPath(), $"blueprint-lab-tests-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_outputDirectory))
        {
            Directory.Delete(_outputDirectory, recursive: true);
        }
    }

    private static (int ExitCode, string Stdout, string Stderr) Invoke(params string[] args)
    {
        RootCommand root = new("blueprint");
        root.Subcommands.Add(LabCommand.Create());
        using StringWriter stdout = new();
        using StringWriter stderr = new();
        int exitCode = root.Parse(["lab", .. args]).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    public static TheoryData<string> ExperimentNames() => [.. ExperimentCatalog.All.Select(e => e.Name)];

    [Theory]
    [MemberData(nameof(ExperimentNames))]
    public void Experiment_QuickJson_PrintsOnlyTheSpecifiedJsonAndWritesArtifacts(string name)
    {
        if (name == "queue-vs-log")
        {
            _ = Peers.Require("rabbitmq-server", "rabbitmq-server");
        }

        (int exitCode, string stdout, string stderr) = Invoke(name, "--quick", "--json", "--seed", "7", "--out", _outputDirectory);

        Assert.Equal(0, exitCode);
        Assert.Equal(string.Empty, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement root = document.RootElement;
        Assert.Equal(name, root.GetProperty("experiment").GetString());
        JsonElement[] claims = [.. root.GetProperty("claims").EnumerateArray()];
        Assert.NotEmpty(claims);
        Assert.All(claims, claim =>
        {
            Assert.False(string.IsNullOrWhiteSpace(claim.GetProperty("id").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(claim.GetProperty("claim").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(claim.GetProperty("expected").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(claim.GetProperty("measured").GetString()));
            Assert.True(claim.GetProperty("holds").ValueKind is JsonValueKind.True or JsonValueKind.False);
        });
        JsonElement machine = root.GetProperty("machine");
        Assert.True(machine.GetProperty("cores").GetInt32() >= 1);
        Assert.False(string.IsNullOrWhiteSpace(machine.GetProperty("os").GetString()));
        Assert.Contains(".NET", machine.GetProperty("dotnet").GetString(), StringComparison.Ordinal);
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("date").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(7, root.GetProperty("seed").GetInt32());

        Assert.Equal(stdout.Trim(), File.ReadAllText(Path.Combine(_outputDirectory, $"{name}.json")).Trim());
        Assert.Contains("## Claims", File.ReadAllText(Path.Combine(_outputDirectory, $"{name}.md")), StringComparison.Ordinal);
        byte[] png = File.ReadAllBytes(Path.Combine(_outputDirectory, $"{name}.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public void DistributedRateLimits_QuickRun_EveryClaimHolds()
    {
        // Deterministic: simulated time and a seeded trace, so every verdict is reproducible.
        ExperimentResult result = new DistributedRateLimitsExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>());
        Assert.Equal(["local-full-over-admits", "local-share-under-admits", "distributed-exact", "local-batch-bounded-error"], result.Claims.Select(c => c.Id));
        Assert.All(result.Claims, c => Assert.True(c.Holds, c.Measured));
    }

    [Fact]
    public void Experiment_QuickRun_ReportsClaimsWithVerdicts()
    {
        ExperimentResult result = new RateLimitWindowsExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>());
        Assert.Equal(["fixed-window-boundary-burst", "sliding-log-exact", "sliding-window-counter-error", "gcra-exact"], result.Claims.Select(c => c.Id));

        // The core algorithms are exact, so these verdicts do not depend on the machine.
        Assert.All(result.Claims.Where(c => c.Id != "sliding-window-counter-error"), c => Assert.True(c.Holds, c.Measured));
    }

    [Fact]
    public void Experiment_TextMode_PrintsClaimsTableWithoutAnsi()
    {
        (int exitCode, string stdout, _) = Invoke("token-vs-leaky-bucket", "--quick", "--out", _outputDirectory);
        Assert.Equal(0, exitCode);
        Assert.Contains("Claims", stdout, StringComparison.Ordinal);
        Assert.Contains("holds", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void List_Always_NamesEveryExperiment()
    {
        (int exitCode, string stdout, _) = Invoke("list");
        Assert.Equal(0, exitCode);
        Assert.All(ExperimentCatalog.All, e => Assert.Contains(e.Name, stdout, StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownExperiment_Always_ExitsTwoWithOneLineOnStderr()
    {
        (int exitCode, string stdout, string stderr) = Invoke("no-such-experiment");
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no-such-experiment", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--seed", "abc")]
    [InlineData("--seed")]
    [InlineData("--bogus")]
    public void BadOption_Always_ExitsTwoWithOneLineOnStderr(params string[] option)
    {
        (int exitCode, string stdout, string stderr) = Invoke(["bloom-filter", "--quick", "--out", _outputDirectory, .. option]);
        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(_outputDirectory));
    }
}
