using Blueprint.Lab.Processes;

namespace Blueprint.Lab.Experiments;

/// <summary>Settings every experiment receives.</summary>
/// <param name="Seed">Seeds every random choice, so a run is reproducible.</param>
/// <param name="Quick">Smaller sizes: a few seconds instead of tens.</param>
public sealed record ExperimentOptions(int Seed, bool Quick)
{
    /// <summary>Gets where the programs live that an experiment starts (a Blueprint node, RabbitMQ); detected from this process by default.</summary>
    public LabEnvironment Environment { get; init; } = LabEnvironment.Detect();
}

/// <summary>An experiment that measures cheat-sheet claims.</summary>
public interface IExperiment
{
    /// <summary>Gets the command-line name.</summary>
    string Name { get; }

    /// <summary>Gets a one-line description.</summary>
    string Description { get; }

    /// <summary>Runs the experiment.</summary>
    /// <param name="options">Seed and size.</param>
    /// <param name="progress">Receives the fraction done, 0 to 1.</param>
    /// <returns>The measurements and verdicts.</returns>
    ExperimentResult Run(ExperimentOptions options, IProgress<double> progress);
}
