using Blueprint.Node;

namespace Blueprint.Raft.Tests.Cli;

/// <summary><c>blueprint sim raft</c> run in-process: output and exit codes.</summary>
public sealed class SimCommandTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var parse = NodeCli.CreateRootCommand().Parse(args);
        int code = parse.Errors.Count > 0 ? 2 : parse.Invoke(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void SimRaft_FewSeeds_PrintsSummaryAndExitsZero()
    {
        var (code, output, _) = Run("sim", "raft", "--seeds", "4", "--steps", "500");
        Assert.Equal(0, code);
        Assert.Contains("sim raft: 4 seeds (3 and 5 nodes, 500 steps each), 0 violations, 2000 steps", output, StringComparison.Ordinal);
    }

    [Fact]
    public void SimRaft_OneSeed_PrintsReplayLineAndExitsZero()
    {
        var (code, output, _) = Run("sim", "raft", "--seed", "7", "--nodes", "3", "--steps", "400");
        Assert.Equal(0, code);
        Assert.Contains("seed 7 (3 nodes, 400 steps): no violation", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nodes", "4")]
    [InlineData("--seeds", "0")]
    [InlineData("--steps", "many")]
    [InlineData("--seed", "-1")]
    public void SimRaft_BadArgument_OneLineAndExitsTwo(string flag, string value)
    {
        var (code, output, error) = Run("sim", "raft", flag, value);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains(flag, error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
