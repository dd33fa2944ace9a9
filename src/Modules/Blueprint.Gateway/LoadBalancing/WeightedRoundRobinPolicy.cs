using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Blueprint.Gateway.LoadBalancing;

/// <summary>
/// <c>WeightedRoundRobin</c>: nginx's smooth weighted round robin. Each destination's weight is its
/// metadata <c>Weight</c> (a whole number from 1, default 1); over any run of requests each
/// destination gets its share of the total weight, interleaved rather than in bursts (weights 5, 1,
/// 1 give a a b a c a a, not a a a a a b c).
/// </summary>
internal sealed class WeightedRoundRobinPolicy : ILoadBalancingPolicy
{
    /// <summary>The policy's name in a cluster's <c>LoadBalancingPolicy</c>.</summary>
    public const string PolicyName = "WeightedRoundRobin";

    /// <summary>The destination metadata key holding the weight.</summary>
    public const string WeightMetadata = "Weight";

    private readonly ConditionalWeakTable<IReadOnlyList<DestinationState>, State> _states = [];

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        ArgumentNullException.ThrowIfNull(availableDestinations);
        if (availableDestinations.Count == 0)
        {
            return null;
        }

        var state = _states.GetValue(availableDestinations, destinations => new State(destinations));
        return state.Next();
    }

    /// <summary>The weight of <paramref name="destination"/>: its metadata, or 1.</summary>
    internal static int WeightOf(DestinationState destination) =>
        destination.Model?.Config.Metadata?.GetValueOrDefault(WeightMetadata) is { } text
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var weight) && weight >= 1
            ? weight
            : 1;

    private sealed class State(IReadOnlyList<DestinationState> destinations)
    {
        private readonly Lock _lock = new();
        private readonly int[] _weights = destinations.Select(WeightOf).ToArray();
        private readonly long[] _current = new long[destinations.Count];

        public DestinationState Next()
        {
            lock (_lock)
            {
                var total = 0L;
                var best = 0;
                for (var i = 0; i < _current.Length; i++)
                {
                    _current[i] += _weights[i];
                    total += _weights[i];
                    if (_current[i] > _current[best])
                    {
                        best = i;
                    }
                }

                _current[best] -= total;
                return destinations[best];
            }
        }
    }
}
