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

    /// <summary>
    /// Serves one long-lived stream: takes a slot (when there is a gate), and ends the stream when the caller goes
    /// (quietly: nobody is left to answer) or when the node stops (Unavailable "etcdserver: server stopped", so the
    /// client reconnects to another member rather than reading an unexplained failure).
    /// </summary>
    /// <param name="gate">The node's gate; null where there is none (unit tests): the caller's token alone ends the stream.</param>
    /// <param name="context">The call.</param>
    /// <param name="serve">The stream's work, given the token that ends it.</param>
    /// <param name="takeSlot">False for a stream whose work holds a watch of its own, which is counted already.</param>
    /// <exception cref="Grpc.Core.RpcException">Every slot is taken, or the node stopped.</exception>
    public static async Task ServeAsync(StreamGate? gate, Grpc.Core.ServerCallContext context, Func<CancellationToken, Task> serve, bool takeSlot = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(serve);
        var stopping = gate?.Stopping ?? CancellationToken.None;
        using var slot = takeSlot ? gate?.Enter() : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, stopping);
        try
        {
            await serve(stop.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled } && stop.IsCancellationRequested)
        {
            if (stopping.IsCancellationRequested)
            {
                throw EtcdErrors.ServerStopped();
            }
        }
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
