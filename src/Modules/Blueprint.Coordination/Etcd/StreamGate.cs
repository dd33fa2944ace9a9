namespace Blueprint.Coordination.Etcd;

/// <summary>
/// Counts the long-lived streams (watch, lease keep-alive) a member serves and refuses past
/// <see cref="CoordinationOptions.StreamsMax"/>; <see cref="Stopping"/> ends them when the node stops, so a graceful stop
/// does not wait out the drain timeout for streams that never end by themselves.
/// </summary>
public sealed class StreamGate(Microsoft.Extensions.Options.IOptions<CoordinationOptions> options, Microsoft.Extensions.Hosting.IHostApplicationLifetime? lifetime = null)
{
    private readonly int _max = options.Value.StreamsMax;

    /// <summary>Cancelled when the node begins to stop.</summary>
    public CancellationToken Stopping { get; } = lifetime?.ApplicationStopping ?? CancellationToken.None;
    private int _open;

    /// <summary>How many streams are open.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a slot for one stream; dispose it when the stream ends.</summary>
    /// <exception cref="Grpc.Core.RpcException">Every slot is taken (ResourceExhausted).</exception>
    public IDisposable Enter()
    {
        if (Interlocked.Increment(ref _open) > _max)
        {
            Interlocked.Decrement(ref _open);
            throw EtcdErrors.TooManyStreams();
        }

        return new Slot(this);
    }

    private sealed class Slot(StreamGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref gate._open);
            }
        }
    }
}
