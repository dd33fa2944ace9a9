namespace Blueprint.EtcdLoad;

/// <summary>One measured run: completed operations per second of the window and their latency percentiles.</summary>
internal sealed record LoadResult(
    int Clients,
    double Seconds,
    long Operations,
    long Errors,
    double OperationsPerSecond,
    long P50Microseconds,
    long P99Microseconds);
