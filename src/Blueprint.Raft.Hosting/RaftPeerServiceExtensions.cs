using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Raft.Hosting;

/// <summary>Wiring of the Raft peer port.</summary>
public static class RaftPeerServiceExtensions
{
    /// <summary>Adds gRPC with the peer service's message size limit (<see cref="RaftHostOptions.PeerMessageBytesMax"/>). Register the <see cref="RaftHost"/> as a singleton too.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The same collection.</returns>
    public static IServiceCollection AddRaftPeerService(this IServiceCollection services)
    {
        services.AddGrpc().AddServiceOptions<RaftPeerService>(options =>
        {
            options.MaxReceiveMessageSize = RaftHostOptions.PeerMessageBytesMax;
            options.MaxSendMessageSize = RaftHostOptions.PeerMessageBytesMax;
        });
        return services;
    }

    /// <summary>Maps the peer service; serve it on an HTTP/2-only endpoint (h2c) of the peer port.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="hostKey">
    /// The key of the <see cref="RaftHost"/> this mapping serves (registered with <c>AddKeyedSingleton</c>), when the
    /// node runs several Raft groups; each mapping is then pinned to its own port. Null: the unkeyed host.
    /// </param>
    /// <returns>The convention builder of the mapped service.</returns>
    public static GrpcServiceEndpointConventionBuilder MapRaftPeerService(this IEndpointRouteBuilder endpoints, string? hostKey = null)
    {
        var mapped = endpoints.MapGrpcService<RaftPeerService>();
        if (hostKey is not null)
        {
            mapped.WithMetadata(new RaftHostKey(hostKey));
        }

        return mapped;
    }
}
