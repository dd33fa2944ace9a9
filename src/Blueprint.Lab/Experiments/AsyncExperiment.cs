using Blueprint.Lab.Reporting;

namespace Blueprint.Lab.Experiments;

/// <summary>
/// An experiment that drives other processes over the network: its work is asynchronous, the lab's runner calls it
/// synchronously (a console process has no synchronization context, so blocking on the task cannot deadlock). Its
/// summary states the machine's load when it started, since its times depend on what else runs.
/// </summary>
public abstract class AsyncExperiment : IExperiment
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract string Description { get; }

    /// <inheritdoc/>
    public ExperimentResult Run(ExperimentOptions options, IProgress<double> progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        double? load = MachineInfo.LoadAverage();
        ExperimentResult result = RunAsync(options, progress).GetAwaiter().GetResult();
        return load is not { } average
            ? result
            : result with { Summary = $"{result.Summary} Load average when the run started: {Fmt.Num(average, 1)} on {System.Environment.ProcessorCount} cores." };
    }

    /// <summary>Runs the experiment.</summary>
    /// <param name="options">Seed, size and the programs to start.</param>
    /// <param name="progress">Receives the fraction done, 0 to 1.</param>
    /// <returns>The measurements and verdicts.</returns>
    protected abstract Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress);
}
