namespace Blueprint.Coordination.Watch;

/// <summary>Bounds and timings of watch streams. Every default is here.</summary>
public sealed class WatchOptions
{
    /// <summary>How often idle watchers created with <c>progress_notify</c> get an empty response carrying the current revision.</summary>
    /// <value>Positive; default 10 minutes (etcd's default).</value>
    public TimeSpan ProgressNotifyInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Events per response: whole revisions are packed until this many; one revision is never split, so a bigger revision goes alone.</summary>
    /// <value>1 to 100,000; default 1,000.</value>
    public int EventsPerResponseMax { get; set; } = 1_000;

    /// <summary>History entries one catch-up read may examine, which bounds how long one read holds the store's read lock.</summary>
    /// <value>1 to 10,000,000; default 10,000.</value>
    public int HistoryScanEntriesMax { get; set; } = 10_000;

    /// <summary>Watchers one stream may hold; a create beyond it is answered created and canceled with a reason.</summary>
    /// <value>1 to 1,000,000; default 1,000.</value>
    public int WatchersPerStreamMax { get; set; } = 1_000;

    /// <summary>Client requests queued on a stream before reading from the client pauses (back-pressure through HTTP/2 flow control).</summary>
    /// <value>1 to 10,000; default 64.</value>
    public int RequestsQueuedMax { get; set; } = 64;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming every option outside its range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (ProgressNotifyInterval <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(ProgressNotifyInterval)} must be positive (is {ProgressNotifyInterval})");
        }

        Check(problems, nameof(EventsPerResponseMax), EventsPerResponseMax, 100_000);
        Check(problems, nameof(HistoryScanEntriesMax), HistoryScanEntriesMax, 10_000_000);
        Check(problems, nameof(WatchersPerStreamMax), WatchersPerStreamMax, 1_000_000);
        Check(problems, nameof(RequestsQueuedMax), RequestsQueuedMax, 10_000);
        if (problems.Count > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WatchOptions), string.Join("; ", problems));
        }
    }

    private static void Check(List<string> problems, string name, int value, int max)
    {
        if (value < 1 || value > max)
        {
            problems.Add($"{name} must be 1 to {max} (is {value})");
        }
    }
}
