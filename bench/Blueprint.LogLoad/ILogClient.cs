namespace Blueprint.LogLoad;

/// <summary>
/// One target's client, as that target's own library is meant to be used: appends go out pipelined and are acknowledged
/// asynchronously; a reader follows one topic from its beginning. The workloads drive every target through this.
/// </summary>
internal interface ILogClient : IAsyncDisposable
{
    /// <summary>Creates the topic (one partition, or one stream) when it does not exist.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Starts one append and returns; <paramref name="acknowledged"/> runs once, when the target acknowledged it under its
    /// durability setting (null) or refused it (the error).
    /// </summary>
    void Append(byte[] payload, Action<Exception?> acknowledged);

    /// <summary>
    /// Reads the topic from its first record, calling <paramref name="onRecord"/> for each until it returns false or
    /// <paramref name="cancellationToken"/> is cancelled; waits for new records at the end.
    /// </summary>
    Task ReadAsync(Func<ReadOnlyMemory<byte>, bool> onRecord, CancellationToken cancellationToken);
}
