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
    public void BatchVsStream_NoNode_ThrowsNamingTheExecutable()
    {
        ExperimentOptions options = new(LabCommand.DefaultSeed, Quick: true) { Environment = LabEnvironment.Detect() with { Node = null } };
        LabPrerequisiteException error = Assert.Throws<LabPrerequisiteException>(() => new BatchVsStreamExperiment().Run(options, new Progress<double>()));
        Assert.Contains("blueprint executable", error.Message, StringComparison.Ordinal);
    }
}
