using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Grpc.Core;

namespace Blueprint.Coordination.Watch;

/// <summary>
/// The etcd v3 Watch gRPC service: one <see cref="WatchSession"/> per call. As in etcd, a client
/// that closes its request side keeps its watches until it cancels the call; every watch ends
/// with the call. <c>fragment</c> is accepted and ignored: a revision always travels whole.
/// </summary>
/// <param name="store">The store whose changes are watched.</param>
/// <param name="headers">Builds response headers.</param>
/// <param name="options">Bounds and timings of each stream.</param>
/// <param name="timeProvider">Clock for progress notifications.</param>
/// <param name="streams">Counts the node's streams and ends them when the node stops; none in unit tests.</param>
public sealed class WatchService(MvccStore store, IResponseHeaderSource headers, WatchOptions options, TimeProvider timeProvider, Etcd.StreamGate? streams = null)
    : Etcd.Rpc.Watch.WatchBase
{
    /// <inheritdoc />
    public override async Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await Etcd.StreamGate.ServeAsync(streams, context, ended => ServeAsync(requestStream, responseStream, ended)).ConfigureAwait(false);
    }

    private async Task ServeAsync(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, CancellationToken ended)
    {
        using var stream = new WatchSession(store, headers, options, timeProvider);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ended);
        var sending = stream.RunAsync((response, token) => responseStream.WriteAsync(response, token), stop.Token);
        var receiving = ReceiveAsync(requestStream, stream, stop.Token);
        try
        {
            var finished = await Task.WhenAny(sending, receiving).ConfigureAwait(false);
            if (finished == receiving && receiving.IsCompletedSuccessfully)
            {
                finished = sending;
            }

            await finished.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(sending, receiving).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private static async Task ReceiveAsync(IAsyncStreamReader<WatchRequest> requests, WatchSession stream, CancellationToken cancellationToken)
    {
        while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            await stream.SubmitAsync(requests.Current, cancellationToken).ConfigureAwait(false);
        }
    }
}
