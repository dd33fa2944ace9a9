using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace Blueprint.Hosting;

/// <summary>Marks an endpoint as served only on connections accepted by one local port.</summary>
/// <param name="Port">The listener's port.</param>
public sealed record LocalPortMetadata(int Port);

/// <summary>
/// Routes an endpoint only to connections that arrived on its <see cref="LocalPortMetadata"/> port. Host matching
/// (<c>RequireHost("*:port")</c>) reads the Host header, which a client may set to another member's address: etcd's
/// clientv3 sends the first endpoint's authority on every connection of its balancer.
/// </summary>
public sealed class LocalPortMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    /// <inheritdoc />
    public override int Order => 0;

    /// <inheritdoc />
    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.Any(endpoint => endpoint.Metadata.GetMetadata<LocalPortMetadata>() is not null);
    }

    /// <inheritdoc />
    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(candidates);
        var port = httpContext.Connection.LocalPort;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Endpoint.Metadata.GetMetadata<LocalPortMetadata>() is { } required && required.Port != port)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>Registers and applies <see cref="LocalPortMatcherPolicy"/>.</summary>
public static class LocalPortEndpointExtensions
{
    /// <summary>Serves the endpoints only on connections accepted by <paramref name="port"/>.</summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <param name="port">The local port.</param>
    /// <returns>The builder.</returns>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, int port)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new LocalPortMetadata(port));
        return builder;
    }
}
