using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Blueprint.Hosting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Model;

namespace Blueprint.Gateway.Resilience;

/// <summary>
/// One Polly circuit breaker per destination. A circuit opens when the share of failed requests
/// (connection errors, timeouts, 5xx answers) in the sampling window reaches the ratio; the
/// destination then gets no traffic for the break duration, after which one trial request decides
/// (no other request is sent there meanwhile): success closes the circuit, failure opens it again. Transitions are counted in
/// <c>blueprint.gateway.circuit.transitions</c>, and <c>blueprint.gateway.circuit.open</c> gauges
/// the circuits open now.
/// </summary>
internal sealed class CircuitBreakers
{
    // Keyed by YARP's destination object: a destination removed from the configuration takes its circuit with it.
    private readonly ConditionalWeakTable<DestinationState, Circuit> _circuits = [];
    private readonly ResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly Counter<long> _transitions;

    public CircuitBreakers(IOptions<ResilienceOptions> options, TimeProvider time, IMeterFactory meters)
    {
        _options = options.Value;
        _time = time;
        var meter = meters.Create(ServiceDefaults.ServiceName);
        _transitions = meter.CreateCounter<long>("blueprint.gateway.circuit.transitions",
            description: "Circuit-breaker transitions per destination (state: open, half_open, closed).");
        meter.CreateObservableGauge("blueprint.gateway.circuit.open", OpenCount, description: "Destinations whose circuit is open now.");
    }

    public bool Enabled => _options.CircuitBreaker;

    /// <summary>Whether <paramref name="destination"/> is inside its break: no traffic until it ends.</summary>
    public bool IsOpen(DestinationState destination) =>
        _circuits.TryGetValue(destination, out var circuit) && circuit.IsOpenAt(_time.GetUtcNow());

    /// <summary>The breaker of <paramref name="destination"/> in <paramref name="clusterId"/>.</summary>
    public ResiliencePipeline<bool> For(string clusterId, DestinationState destination) =>
        _circuits.GetValue(destination, d => new Circuit(this, clusterId, d.DestinationId)).Pipeline;

    private int OpenCount()
    {
        var now = _time.GetUtcNow();
        var open = 0;
        foreach (var (_, circuit) in _circuits)
        {
            open += circuit.IsOpenAt(now) ? 1 : 0;
        }

        return open;
    }

    /// <summary>A destination's breaker; its pipeline's result is "the request failed".</summary>
    private sealed class Circuit
    {
        public Circuit(CircuitBreakers owner, string clusterId, string destinationId)
        {
            var tags = new TagList { { "cluster", clusterId }, { "destination", destinationId } };
            void Count(string state)
            {
                var withState = tags;
                withState.Add("state", state);
                owner._transitions.Add(1, withState);
            }

            Pipeline = new ResiliencePipelineBuilder<bool> { TimeProvider = owner._time }
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions<bool>
                {
                    FailureRatio = owner._options.BreakerFailureRatio,
                    MinimumThroughput = owner._options.BreakerMinimumThroughput,
                    SamplingDuration = TimeSpan.FromSeconds(owner._options.BreakerSamplingSeconds),
                    BreakDuration = TimeSpan.FromSeconds(owner._options.BreakerBreakSeconds),
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result || args.Outcome.Exception is not null),
                    OnOpened = args =>
                    {
                        Volatile.Write(ref _openUntilTicks, (owner._time.GetUtcNow() + args.BreakDuration).UtcTicks);
                        Count("open");
                        return ValueTask.CompletedTask;
                    },
                    OnHalfOpened = _ =>
                    {
                        // While the one trial is out, Polly refuses every other call: keep the destination
                        // out of load balancing until the trial closes or reopens the circuit.
                        Volatile.Write(ref _openUntilTicks, long.MaxValue);
                        Count("half_open");
                        return ValueTask.CompletedTask;
                    },
                    OnClosed = _ =>
                    {
                        Volatile.Write(ref _openUntilTicks, 0);
                        Count("closed");
                        return ValueTask.CompletedTask;
                    },
                })
                .Build();
        }

        public ResiliencePipeline<bool> Pipeline { get; }

        // Polly's callbacks run on request threads: the break's end is one atomic word.
        private long _openUntilTicks;

        public bool IsOpenAt(DateTimeOffset now) => Volatile.Read(ref _openUntilTicks) > now.UtcTicks;
    }
}
