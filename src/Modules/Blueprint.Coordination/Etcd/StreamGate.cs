namespace Blueprint.Coordination.Etcd;

/// <summary>Counts the long-lived streams (watch, lease keep-alive) a member serves and refuses past <see cref="CoordinationOptions.StreamsMax"/>.</summary>
internal sealed class StreamGate(Microsoft.Extensions.Options.IOptions<CoordinationOptions> options)
{
    private readonly int _max = options.Value.StreamsMax;
    private int _open;

    public int Open => Volatile.Read(ref _open);

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
