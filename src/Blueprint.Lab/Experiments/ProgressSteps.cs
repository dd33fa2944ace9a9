namespace Blueprint.Lab.Experiments;

/// <summary>Reports progress as a count of equal steps.</summary>
internal sealed class ProgressSteps(IProgress<double> progress, int total)
{
    private int _done;

    public void Step()
    {
        _done++;
        progress.Report(Math.Min(1.0, _done / (double)total));
    }
}
