namespace Blueprint.Testing.Faults;

/// <summary>
/// What one proxy has done, for assertions. Every counter only grows, except
/// <see cref="ConnectionsOpen"/>. Reads are atomic one by one; a group of reads is not a snapshot.
/// </summary>
public sealed class LinkCounters
{
    private long _connectionsAccepted;
    private long _connectionsOpen;
    private long _connectionsRefused;
    private long _connectionsOverLimit;
    private long _connectionsReset;
    private long _upstreamConnectFailures;
    private long _bytesForwardedUpstream;
    private long _bytesForwardedDownstream;
    private long _bytesDroppedUpstream;
    private long _bytesDroppedDownstream;
    private long _faultChanges;

    /// <summary>Connections the listener accepted, including those then refused or over the limit.</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Connections being forwarded now.</summary>
    public long ConnectionsOpen => Interlocked.Read(ref _connectionsOpen);

    /// <summary>New connections reset at accept because the link was refusing.</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _connectionsRefused);

    /// <summary>New connections reset at accept because the proxy held its maximum already.</summary>
    public long ConnectionsOverLimit => Interlocked.Read(ref _connectionsOverLimit);

    /// <summary>Open connections cut with a reset by <see cref="FaultProxy.Reset"/> or <see cref="FaultProxy.Partition"/>.</summary>
    public long ConnectionsReset => Interlocked.Read(ref _connectionsReset);

    /// <summary>Accepted connections whose upstream could not be reached (the client got a reset).</summary>
    public long UpstreamConnectFailures => Interlocked.Read(ref _upstreamConnectFailures);

    /// <summary>Fault changes applied: every <see cref="FaultProxy.Update"/> that changed the snapshot, and every reset.</summary>
    public long FaultChanges => Interlocked.Read(ref _faultChanges);

    /// <summary>Bytes written on to the other side in <paramref name="direction"/>.</summary>
    public long BytesForwarded(FaultDirections direction) =>
        Interlocked.Read(ref direction == FaultDirections.Upstream ? ref _bytesForwardedUpstream : ref _bytesForwardedDownstream);

    /// <summary>Bytes read and dropped by a blackhole in <paramref name="direction"/>.</summary>
    public long BytesDropped(FaultDirections direction) =>
        Interlocked.Read(ref direction == FaultDirections.Upstream ? ref _bytesDroppedUpstream : ref _bytesDroppedDownstream);

    /// <inheritdoc />
    public override string ToString() =>
        $"accepted {ConnectionsAccepted}, open {ConnectionsOpen}, refused {ConnectionsRefused}, over limit {ConnectionsOverLimit}, " +
        $"reset {ConnectionsReset}, upstream failures {UpstreamConnectFailures}, fault changes {FaultChanges}, " +
        $"bytes up {BytesForwarded(FaultDirections.Upstream)} (dropped {BytesDropped(FaultDirections.Upstream)}), " +
        $"bytes down {BytesForwarded(FaultDirections.Downstream)} (dropped {BytesDropped(FaultDirections.Downstream)})";

    internal void OnAccepted() => Interlocked.Increment(ref _connectionsAccepted);

    internal void OnOpened() => Interlocked.Increment(ref _connectionsOpen);

    internal void OnClosed() => Interlocked.Decrement(ref _connectionsOpen);

    internal void OnRefused() => Interlocked.Increment(ref _connectionsRefused);

    internal void OnOverLimit() => Interlocked.Increment(ref _connectionsOverLimit);

    internal void OnReset() => Interlocked.Increment(ref _connectionsReset);

    internal void OnUpstreamConnectFailure() => Interlocked.Increment(ref _upstreamConnectFailures);

    internal void OnFaultChange() => Interlocked.Increment(ref _faultChanges);

    internal void OnForwarded(FaultDirections direction, int bytes) =>
        Interlocked.Add(ref direction == FaultDirections.Upstream ? ref _bytesForwardedUpstream : ref _bytesForwardedDownstream, bytes);

    internal void OnDropped(FaultDirections direction, int bytes) =>
        Interlocked.Add(ref direction == FaultDirections.Upstream ? ref _bytesDroppedUpstream : ref _bytesDroppedDownstream, bytes);
}
