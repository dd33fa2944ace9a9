using Blueprint.Raft.Hosting.Protocol;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// The gRPC service on the Raft peer port: receives other members' message streams and forwarded calls for the
/// <see cref="RaftHost"/> registered in dependency injection — the unkeyed one, or the keyed one the endpoint names with
/// <see cref="RaftHostKey"/> (a node may run several Raft groups, each on its own peer port). A stream from another
/// cluster or from a removed member is refused with <c>FailedPrecondition</c> and a trailer naming why.
/// </summary>
/// <param name="services">Where the hosts are registered.</param>
/// <param name="lifetime">The node's lifetime: incoming streams end when the node begins to stop, so its drain does not wait for them.</param>
public sealed class RaftPeerService(IServiceProvider services, Microsoft.Extensions.Hosting.IHostApplicationLifetime? lifetime = null) : Peer.PeerBase
{
    /// <summary>How long incoming streams go on after the node begins to stop.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public override async Task<SendAck> Send(IAsyncStreamReader<RaftEnvelope> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        var host = HostOf(context);
        long received = 0;

        // The stream lives as long as both ends do: it ends when the caller hangs up or this host stops, and a short
        // grace after the node begins to stop — long enough for a module to hand over what it leads (which needs its
        // peers' answers), short enough not to hold up the server's drain.
        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, host.Stopping);
        using var nodeStopping = (lifetime?.ApplicationStopping ?? CancellationToken.None).Register(() => call.CancelAfter(StopGrace));
        while (await requestStream.MoveNext(call.Token).ConfigureAwait(false))
        {
            var envelope = requestStream.Current;
            var verdict = host.Receive(envelope);
            if (verdict != RaftHost.ReceiveVerdict.Accepted)
            {
                throw Refuse(host, verdict, envelope.From, envelope.ClusterId);
            }

            received++;
        }

        return new SendAck { Received = received };
    }

    /// <inheritdoc />
    public override async Task<ForwardResponse> Forward(ForwardRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var host = HostOf(context);
        var verdict = host.CheckSender(request.ClusterId, request.From);
        if (verdict != RaftHost.ReceiveVerdict.Accepted)
        {
            throw Refuse(host, verdict, request.From, request.ClusterId);
        }

        return await host.HandleForwardAsync(request, context.CancellationToken).ConfigureAwait(false);
    }

    private static RpcException Refuse(RaftHost host, RaftHost.ReceiveVerdict verdict, int from, ulong clusterId)
    {
        var (refusal, detail) = verdict switch
        {
            RaftHost.ReceiveVerdict.ClusterMismatch => (PeerSender.RefusalClusterMismatch, $"node {host.Id} belongs to cluster {host.ClusterId:x16}; node {from} sent cluster {clusterId:x16}"),
            RaftHost.ReceiveVerdict.Removed => (PeerSender.RefusalRemoved, $"node {from} was removed from the cluster"),
            _ => ("stopped", $"node {host.Id} is not running"),
        };
        var trailers = new Metadata { { PeerSender.RefusalTrailer, refusal } };
        var code = verdict == RaftHost.ReceiveVerdict.Stopped ? StatusCode.Unavailable : StatusCode.FailedPrecondition;
        return new RpcException(new Status(code, detail), trailers);
    }

    private RaftHost HostOf(ServerCallContext context) =>
        context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<RaftHostKey>() is { } key
            ? services.GetRequiredKeyedService<RaftHost>(key.Key)
            : services.GetRequiredService<RaftHost>();
}

/// <summary>Endpoint metadata naming the keyed <see cref="RaftHost"/> a peer port serves.</summary>
/// <param name="Key">The service key the host is registered under.</param>
public sealed record RaftHostKey(string Key);
