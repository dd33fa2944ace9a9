using System.Diagnostics;
using System.Diagnostics.Metrics;
using Blueprint.Core.RateLimiting.Stores;
using Blueprint.Hosting;
using Blueprint.RateLimit.Rules;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace Blueprint.RateLimit;

/// <summary>A check: a domain, the request's descriptors and how many hits it counts for.</summary>
/// <param name="Domain">The rules domain.</param>
/// <param name="Descriptors">Each descriptor an ordered list of entries.</param>
/// <param name="Hits">How many requests this check covers (envoy's hits_addend); at least 0.</param>
public sealed record RateLimitRequest(string Domain, IReadOnlyList<IReadOnlyList<DescriptorEntry>> Descriptors, int Hits = 1);

/// <summary>The verdict for one descriptor.</summary>
public enum DescriptorCode
{
    /// <summary>No rule applies, or the rule is unlimited.</summary>
    Unknown,

    /// <summary>Within the limit.</summary>
    Ok,

    /// <summary>Over the limit.</summary>
    OverLimit,
}

/// <summary>What one descriptor got.</summary>
/// <param name="Code">The verdict.</param>
/// <param name="Rule">The rule that applied, if any.</param>
/// <param name="RemainingPermits">Permits left under that rule.</param>
/// <param name="RetryAfter">When over the limit, how long until the request would pass.</param>
/// <param name="ResetAfter">How long until the limit is fully available again.</param>
/// <param name="Degraded">The KV could not be reached; the verdict follows the rule's fail mode.</param>
public sealed record DescriptorStatus(DescriptorCode Code, MatchedRule? Rule, long RemainingPermits, TimeSpan RetryAfter, TimeSpan ResetAfter, bool Degraded)
{
    /// <summary>Over the limit, but the rule is in shadow mode: counted, not enforced.</summary>
    public bool ShadowLimited => Code == DescriptorCode.OverLimit && Rule?.Limit.ShadowMode == true;
}

/// <summary>The result of a check.</summary>
/// <param name="Statuses">One status per descriptor, in the request's order.</param>
public sealed record RateLimitResult(IReadOnlyList<DescriptorStatus> Statuses)
{
    /// <summary>Whether the request must be rejected: some descriptor is over an enforced limit.</summary>
    public bool OverLimit => Statuses.Any(status => status.Code == DescriptorCode.OverLimit && !status.ShadowLimited);

    /// <summary>The longest wait among the descriptors over an enforced limit.</summary>
    public TimeSpan RetryAfter => Statuses.Where(status => status.Code == DescriptorCode.OverLimit && !status.ShadowLimited)
        .Select(status => status.RetryAfter).DefaultIfEmpty(TimeSpan.Zero).Max();
}

/// <summary>
/// Decides checks against the rules: each descriptor's rule is decided by the KV store in one round
/// trip. When the KV fails — a timeout, a dropped connection, or the circuit open after repeated
/// failures so a dead KV is not hammered — each rule's fail mode decides: open admits through a
/// per-node fallback limiter with the same limit, closed denies. Metrics count every outcome.
/// </summary>
public sealed partial class RateLimitService
{
    private readonly IRateLimitStore _store;
    private readonly LocalRateLimitStore _fallback;
    private readonly LocalBatchStore _batched;
    private readonly RuleStore _rules;
    private readonly RateLimitOptions _options;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger<RateLimitService> _logger;
    private readonly Counter<long> _decisions;
    private readonly Histogram<double> _duration;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private int _lastFailed;

    /// <summary>Creates the service.</summary>
    public RateLimitService(IRateLimitStore store, RuleStore rules, IOptions<RateLimitOptions> options, TimeProvider timeProvider, IMeterFactory meters, ILogger<RateLimitService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        _store = store;
        _rules = rules;
        _options = options.Value;
        _logger = logger;
        _fallback = new LocalRateLimitStore(timeProvider, _options.FallbackKeysMax);
        _batched = new LocalBatchStore(store, timeProvider, _options.FallbackKeysMax);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = _options.BreakAfterFailures,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromMilliseconds(_options.BreakDurationMs),
                ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutRejectedException>().Handle<TimeoutException>(),
                StateProvider = _circuit,
            })
            .AddTimeout(TimeSpan.FromMilliseconds(_options.DecisionTimeoutMs))
            .Build();

        var meter = meters.Create(ServiceDefaults.ServiceName);
        _decisions = meter.CreateCounter<long>("blueprint.ratelimit.decisions", description: "Rate-limit decisions by rule and outcome (allowed, near_limit, limited, shadow_limited, degraded_open, degraded_closed).");
        _duration = meter.CreateHistogram<double>("blueprint.ratelimit.decision.duration", unit: "s", description: "Time to decide one descriptor, KV round trip included.");
        meter.CreateObservableGauge("blueprint.ratelimit.degraded", () => IsDegraded ? 1 : 0, description: "1 while the KV is unreachable and rules follow their fail mode.");
    }

    /// <summary>Whether the KV is currently considered unreachable: the last call failed, or the circuit is not closed.</summary>
    public bool IsDegraded => Volatile.Read(ref _lastFailed) == 1 || _circuit.CircuitState != CircuitState.Closed;

    /// <summary>The rules in force.</summary>
    public RuleSet Rules => _rules.Current;

    /// <summary>Decides <paramref name="request"/>.</summary>
    /// <exception cref="InvalidRateLimitRequestException">The request is malformed (too many descriptors, negative hits, an empty key).</exception>
    public async Task<RateLimitResult> CheckAsync(RateLimitRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);
        var rules = _rules.Current;
        var statuses = new DescriptorStatus[request.Descriptors.Count];
        for (var i = 0; i < statuses.Length; i++)
        {
            var match = rules.Match(request.Domain, request.Descriptors[i]);
            statuses[i] = match is null || match.Limit.Unlimited
                ? new DescriptorStatus(DescriptorCode.Unknown, match, 0, TimeSpan.Zero, TimeSpan.Zero, false)
                : await DecideAsync(match, request.Hits, cancellationToken).ConfigureAwait(false);
        }

        return new RateLimitResult(statuses);
    }

    private void Validate(RateLimitRequest request)
    {
        if (string.IsNullOrEmpty(request.Domain))
        {
            throw new InvalidRateLimitRequestException("domain is required");
        }

        if (request.Descriptors.Count == 0 || request.Descriptors.Count > _options.DescriptorsPerRequestMax)
        {
            throw new InvalidRateLimitRequestException($"descriptors must hold 1 to {_options.DescriptorsPerRequestMax} descriptors; got {request.Descriptors.Count}");
        }

        if (request.Hits < 0)
        {
            throw new InvalidRateLimitRequestException($"hits must be 0 or more; got {request.Hits}");
        }

        foreach (var descriptor in request.Descriptors)
        {
            if (descriptor.Count == 0 || descriptor.Count > RuleParser.DepthMax || descriptor.Any(entry => string.IsNullOrEmpty(entry.Key) || entry.Value is null))
            {
                throw new InvalidRateLimitRequestException($"each descriptor needs 1 to {RuleParser.DepthMax} entries, each with a key and a value");
            }
        }
    }

    private async Task<DescriptorStatus> DecideAsync(MatchedRule match, int hits, CancellationToken cancellationToken)
    {
        var spec = match.Limit.Spec;
        if (hits > spec.HitsMax)
        {
            // Can never pass, whatever the state: no round trip.
            Count(match, "limited");
            return new DescriptorStatus(DescriptorCode.OverLimit, match, 0, spec.Unit, spec.Unit, false);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var outcome = await _pipeline.ExecuteAsync(
                static (state, token) => state.store.DecideAsync(state.key, state.spec, state.hits, token),
                (store: match.Limit.LocalBatch ? _batched : _store, key: match.CounterKey, spec, hits),
                cancellationToken).ConfigureAwait(false);
            _duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("rule", match.Rule.Path));
            if (Interlocked.Exchange(ref _lastFailed, 0) == 1)
            {
                LogRecovered(_logger);
            }

            var status = new DescriptorStatus(outcome.Allowed ? DescriptorCode.Ok : DescriptorCode.OverLimit, match, outcome.RemainingPermits, outcome.RetryAfter, outcome.ResetAfter, false);
            Count(match, Outcome(status, spec));
            return status;
        }
        catch (Exception e) when (e is RedisException or TimeoutRejectedException or BrokenCircuitException or TimeoutException)
        {
            if (Interlocked.Exchange(ref _lastFailed, 1) == 0)
            {
                LogDegraded(_logger, e.Message);
            }

            if (match.Limit.FailMode == FailMode.Closed)
            {
                Count(match, "degraded_closed");
                return new DescriptorStatus(DescriptorCode.OverLimit, match, 0, TimeSpan.FromMilliseconds(_options.BreakDurationMs), spec.Unit, true);
            }

            var local = await _fallback.DecideAsync(match.CounterKey, spec, hits, cancellationToken).ConfigureAwait(false);
            Count(match, "degraded_open");
            return new DescriptorStatus(local.Allowed ? DescriptorCode.Ok : DescriptorCode.OverLimit, match, local.RemainingPermits, local.RetryAfter, local.ResetAfter, true);
        }
    }

    private string Outcome(DescriptorStatus status, LimitSpec spec)
    {
        if (status.Code == DescriptorCode.OverLimit)
        {
            return status.ShadowLimited ? "shadow_limited" : "limited";
        }

        // The most a limit can have left is what one decision may ask for: the burst, or the window's limit.
        return status.RemainingPermits <= spec.HitsMax * _options.NearLimitRatio ? "near_limit" : "allowed";
    }

    private void Count(MatchedRule match, string outcome) =>
        _decisions.Add(1, new KeyValuePair<string, object?>("rule", match.Rule.Path), new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limiting is degraded: the KV cannot be reached ({Reason}); rules follow their fail mode")]
    private static partial void LogDegraded(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate limiting recovered: the KV answers again")]
    private static partial void LogRecovered(ILogger logger);
}

/// <summary>A check that is not one: the message says why, in words fit for an API client.</summary>
public sealed class InvalidRateLimitRequestException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRateLimitRequestException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidRateLimitRequestException()
        : base("invalid rate-limit check")
    {
    }

    /// <summary>Creates the exception.</summary>
    public InvalidRateLimitRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
