using System.Text;
using Blueprint.Coordination.Recipes;
using Google.Protobuf;
using Grpc.Core;

namespace Blueprint.Coordination.Etcd;

/// <summary>What the lock and election services share: reading names and values, response headers, and the errors etcd's services answer.</summary>
internal static class RecipeRequests
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A lock or election name: non-empty <see cref="Text"/> (etcd would use the prefix "/"; refused here as a mistake).</summary>
    public static string Name(ByteString bytes, string what)
    {
        if (bytes.IsEmpty)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"blueprint: the {what} is empty"));
        }

        return Text(bytes, what);
    }

    /// <summary>
    /// The text of a name or a campaign value. etcd takes any bytes; the recipes here work on strings, so bytes that
    /// are not UTF-8 are refused rather than silently changed.
    /// </summary>
    public static string Text(ByteString bytes, string what)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"blueprint: the {what} is not UTF-8 text"));
        }
    }

    /// <summary>
    /// A header no older than <paramref name="seen"/>, a revision the answer speaks for: a write the recipe made through
    /// the leader may not be applied on this member yet.
    /// </summary>
    public static Rpc.ResponseHeader Header(EtcdServer server, long seen) => server.Header(Math.Max(server.Store.Revision, seen));

    /// <summary>
    /// Runs a recipe step for a caller on the caller's lease (an orphan session: the caller keeps the lease alive) and
    /// answers etcd's errors for what the recipe throws. The step ends when the caller goes (Cancelled) or the node
    /// stops (Unavailable, so the client tries another member); a step that waits opens a watch, which is what counts
    /// among the member's streams. <paramref name="expired"/> is the message when the caller's key was deleted while
    /// it waited (its lease ended).
    /// </summary>
    public static async Task<T> OnCallersLeaseAsync<T>(
        SelfChannel self, long lease, string expired, ServerCallContext context, StreamGate streams, Func<EtcdSession, CancellationToken, Task<T>> step)
    {
        var stopping = streams.Stopping;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, stopping);
        try
        {
            await using var session = await EtcdSession.OrphanAsync(self.Invoker, lease, stop.Token).ConfigureAwait(false);
            return await step(session, stop.Token).ConfigureAwait(false);
        }
        catch (SessionLostException error)
        {
            throw new RpcException(new Status(StatusCode.Unknown, expired, error));
        }
        catch (NotLeaderException)
        {
            throw NotLeader();
        }
        catch (Exception error) when (error is OperationCanceledException or RpcException)
        {
            throw Ended(error, stopping);
        }
    }

    /// <summary>Runs one of the service's own etcd requests, answering its error as etcd's services do (<see cref="Relayed"/>).</summary>
    public static async Task<T> RelayAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException error)
        {
            throw Relayed(error);
        }
    }

    /// <summary>What the caller is answered when a recipe step ends by an exception: stopped, cancelled, or the inner request's error.</summary>
    public static RpcException Ended(Exception error, CancellationToken stopping) => error switch
    {
        _ when stopping.IsCancellationRequested => EtcdErrors.ServerStopped(),
        RpcException inner => Relayed(inner),
        _ => new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled", error)),
    };

    /// <summary>
    /// An error of one of the service's own etcd requests as etcd's services pass it on: its v3client turns it into a
    /// plain error, so the caller sees code Unknown with etcd's message ("etcdserver: requested lease not found").
    /// Cancellation and the transient codes keep theirs, so that a client still retries when the cluster is electing
    /// or the member is busy.
    /// </summary>
    public static RpcException Relayed(RpcException error) =>
        error.StatusCode is StatusCode.Cancelled or StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted
            ? error
            : new RpcException(new Status(StatusCode.Unknown, error.Status.Detail, error));

    /// <summary>concurrency.ErrElectionNotLeader: the leader key is not (any more) the one the request names.</summary>
    public static RpcException NotLeader() => new(new Status(StatusCode.Unknown, "election: not leader"));

    /// <summary>concurrency.ErrElectionNoLeader.</summary>
    public static RpcException NoLeader() => new(new Status(StatusCode.Unknown, "election: no leader"));

    /// <summary>v3election.ErrMissingLeaderKey.</summary>
    public static RpcException MissingLeaderKey() => new(new Status(StatusCode.Unknown, "\"leader\" field must be provided"));
}
