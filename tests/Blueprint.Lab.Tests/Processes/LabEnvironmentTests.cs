using System.CommandLine;

using Blueprint.Hosting;
using Blueprint.Lab.Experiments;
using Blueprint.Lab.Processes;

namespace Blueprint.Lab.Tests.Processes;

public sealed class LabEnvironmentTests
{
    [Fact]
    public void Detect_InTheTests_FindsTheNodeBuiltBeside()
    {
        NodeCommand? node = LabEnvironment.Detect().Node;
        Assert.NotNull(node);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "blueprint.dll"), Assert.Single(node.LeadingArguments));
    }

    [Fact]
    public void ExitWithParentVariable_Always_IsTheOneTheNodeWatches()
    {
        // The lab references no hosting project, so it names the variable itself; this keeps the two in step.
        Assert.Equal(ParentWatch.Variable, LabEnvironment.ExitWithParentVariable);
    }

    [Fact]
    public void QueueVsLog_RabbitMqMissing_ExitsTwoWithOneLineNamingThePackage()
    {
        LabEnvironment missing = LabEnvironment.Detect() with { RabbitMqDirectory = Path.Combine(Path.GetTempPath(), $"no-rabbitmq-{Guid.NewGuid():N}") };
        string output = Path.Combine(Path.GetTempPath(), $"blueprint-lab-tests-{Guid.NewGuid():N}");
        RootCommand root = new("blueprint");
        root.Subcommands.Add(LabCommand.Create(missing));
        using StringWriter stdout = new();
        using StringWriter stderr = new();

        int exitCode = root.Parse(["lab", "queue-vs-log", "--quick", "--out", output]).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });

        Assert.Equal(2, exitCode);
        string line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("apt-get install rabbitmq-server", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void BatchVsStream_NoNode_ThrowsNamingTheExecutable()
    {
        ExperimentOptions options = new(LabCommand.DefaultSeed, Quick: true) { Environment = LabEnvironment.Detect() with { Node = null } };
        LabPrerequisiteException error = Assert.Throws<LabPrerequisiteException>(() => new BatchVsStreamExperiment().Run(options, new Progress<double>()));
        Assert.Contains("blueprint executable", error.Message, StringComparison.Ordinal);
    }
}
