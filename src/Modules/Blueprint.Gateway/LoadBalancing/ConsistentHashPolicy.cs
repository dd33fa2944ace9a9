using System.Runtime.CompilerServices;
using Blueprint.Core.Hashing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Blueprint.Gateway.LoadBalancing;

/// <summary>
/// <c>ConsistentHash</c>: sticky load balancing that survives scaling. The request's key — a header,
/// a cookie or the client IP, chosen by the cluster's metadata <c>HashKey</c> (<c>header:X-User</c>,
/// <c>cookie:session</c> or <c>ip</c>, the default) — is placed on a <see cref="HashRing{TNode}"/>
/// of the available destinations, so adding or losing one moves only the keys of the ring ranges
/// it owned. A request without the key goes to a random destination.
/// </summary>
internal sealed class ConsistentHashPolicy : ILoadBalancingPolicy
{
    /// <summary>The policy's name in a cluster's <c>LoadBalancingPolicy</c>.</summary>
    public const string PolicyName = "ConsistentHash";

    /// <summary>The cluster metadata key that says what to hash.</summary>
    public const string HashKeyMetadata = "HashKey";

    // One ring per list of available destinations: YARP replaces the list when health or configuration change.
    private readonly ConditionalWeakTable<IReadOnlyList<DestinationState>, Ring> _rings = [];

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(availableDestinations);
        if (availableDestinations.Count == 0)
        {
            return null;
        }

        var key = KeyOf(context, cluster.Model.Config.Metadata?.GetValueOrDefault(HashKeyMetadata));
        if (string.IsNullOrEmpty(key))
        {
            return availableDestinations[Random.Shared.Next(availableDestinations.Count)];
        }

        var ring = _rings.GetValue(availableDestinations, destinations => new Ring(destinations));
        return ring.ById[ring.Hash.GetNode(key)];
    }

    /// <summary>The request's key under <paramref name="source"/>, or null when the request has none.</summary>
    internal static string? KeyOf(HttpContext context, string? source)
    {
        if (source is null || source.Equals("ip", StringComparison.OrdinalIgnoreCase))
        {
            // An IPv4 client reached over a dual-stack socket hashes as itself, whatever the gateway binds.
            var address = context.Connection.RemoteIpAddress;
            return (address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address)?.ToString();
        }

        if (source.StartsWith("header:", StringComparison.OrdinalIgnoreCase))
        {
            var value = context.Request.Headers[source["header:".Length..]].ToString();
            return value.Length == 0 ? null : value;
        }

        if (source.StartsWith("cookie:", StringComparison.OrdinalIgnoreCase))
        {
            return context.Request.Cookies[source["cookie:".Length..]];
        }

        return null;
    }

    /// <summary>Whether <paramref name="source"/> is a key source this policy understands.</summary>
    internal static bool IsValidSource(string source) =>
        source.Equals("ip", StringComparison.OrdinalIgnoreCase)
        || (source.StartsWith("header:", StringComparison.OrdinalIgnoreCase) && source.Length > "header:".Length)
        || (source.StartsWith("cookie:", StringComparison.OrdinalIgnoreCase) && source.Length > "cookie:".Length);

    private sealed class Ring(IReadOnlyList<DestinationState> destinations)
    {
        public HashRing<string> Hash { get; } = new(destinations.Select(destination => destination.DestinationId));

        public Dictionary<string, DestinationState> ById { get; } = destinations.ToDictionary(destination => destination.DestinationId, StringComparer.Ordinal);
    }
}
