namespace Blueprint.Lab.Experiments;

/// <summary>
/// An experiment that drives other processes over the network: its work is asynchronous, the lab's runner calls it
/// synchronously (a console process has no synchronization context, so blocking on the task cannot deadlock).
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
        return RunAsync(options, progress).GetAwaiter().GetResult();
    }

    /// <summary>Runs the experiment.</summary>
    /// <param name="options">Seed, size and the programs to start.</param>
    /// <param name="progress">Receives the fraction done, 0 to 1.</param>
    /// <returns>The measurements and verdicts.</returns>
    protected abstract Task<ExperimentResult> RunAsync(ExperimentOptions options, IProgress<double> progress);
}
