using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Blueprint.Core.Resilience;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Blueprint.Gateway.Resilience;

/// <summary>
/// The gateway's steps in YARP's proxy pipeline: <see cref="RetryAsync"/> before load balancing
/// (it keeps open circuits out of the choice and re-runs the choice on another destination after a
/// connection error or timeout), <see cref="BreakAsync"/> after it (the chosen destination's breaker
/// sees the outcome). A retry is sent only for an idempotent method without a body, before any of
/// the response went out, to a destination not yet tried, and only while the cluster's retry budget
/// allows it; <c>blueprint.gateway.retries</c> counts retries sent and refused.
/// </summary>
internal sealed class ProxyResilience
{
    /// <summary>The cluster metadata key that overrides <see cref="ResilienceOptions.Retries"/>.</summary>
    public const string RetriesMetadata = "Retries";

    private readonly CircuitBreakers _breakers;
    private readonly ResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly Counter<long> _retries;

    // One budget per cluster: a failing cluster spends its own, not another's. Bounded by the configured clusters.
    private readonly ConcurrentDictionary<string, RetryBudget> _budgets = new(StringComparer.Ordinal);

    public ProxyResilience(CircuitBreakers breakers, IOptions<ResilienceOptions> options, TimeProvider time, IMeterFactory meters)
    {
        _breakers = breakers;
        _options = options.Value;
        _time = time;
        _retries = meters.Create(ServiceDefaults.ServiceName).CreateCounter<long>("blueprint.gateway.retries",
            description: "Proxied requests retried on another destination, by cluster and outcome (sent, budget_exhausted).");
    }

    /// <summary>Before load balancing: skip open circuits; retry on another destination when allowed.</summary>
    public async Task RetryAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = _breakers.Enabled ? WithoutOpenCircuits(proxy.AvailableDestinations) : proxy.AvailableDestinations;
        proxy.AvailableDestinations = candidates;
        var cluster = proxy.Cluster.Config;
        var retries = IsReplayable(context) ? RetriesOf(cluster) : 0;
        var budget = retries > 0 ? _budgets.GetOrAdd(cluster.ClusterId, _ => new RetryBudget(_options.RetryBudgetPercent, _options.RetryBudgetMinPerSecond)) : null;
        budget?.Deposit();
        await next().ConfigureAwait(false);
        AnswerRouteTimeout(context);

        List<DestinationState>? tried = null;
        for (var attempt = 0; attempt < retries; attempt++)
        {
            if (context.Features.Get<IForwarderErrorFeature>() is not { } error || !IsRetriable(error.Error, proxy.Route.Config)
                || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            tried ??= [];
            if (proxy.ProxiedDestination is { } failed)
            {
                tried.Add(failed);
            }

            var remaining = candidates.Where(destination => !tried.Contains(destination)).ToArray();
            if (remaining.Length == 0)
            {
                return;
            }

            if (!budget!.TryWithdraw((long)(_time.GetTimestamp() / (_time.TimestampFrequency / 1000.0))))
            {
                Count(cluster.ClusterId, "budget_exhausted");
                return;
            }

            Count(cluster.ClusterId, "sent");
            // The failed attempt wrote only a status (no answer came); headers set before the proxy (rate-limit fields) stay.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Features.Set<IForwarderErrorFeature>(null);
            proxy.ProxiedDestination = null;
            proxy.AvailableDestinations = remaining;
            await next().ConfigureAwait(false);
            AnswerRouteTimeout(context);
        }
    }

    /// <summary>
    /// A route's <c>Timeout</c> cancels the request; YARP reads that as the client going away (400).
    /// The client is still there, waiting: it gets 504, as from any gateway whose upstream was too slow.
    /// </summary>
    private static void AnswerRouteTimeout(HttpContext context)
    {
        if (!context.Response.HasStarted && context.Features.Get<IForwarderErrorFeature>() is { } error && IsRouteTimeout(context, error))
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
    }

    /// <summary>Whether the request was cancelled by its route's timeout: the destination was too slow, a failure of it.</summary>
    private static bool IsRouteTimeout(HttpContext context, IForwarderErrorFeature error) =>
        error.Error == ForwarderError.RequestCanceled
        && context.Features.Get<IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true };

    /// <summary>After load balancing: the chosen destination's circuit breaker records the outcome, or refuses with 503 while open.</summary>
    public async Task BreakAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.GetReverseProxyFeature();
        if (!_breakers.Enabled || proxy.AvailableDestinations is not [var destination])
        {
            await next().ConfigureAwait(false);
            return;
        }

        var breaker = _breakers.For(proxy.Cluster.Config.ClusterId, destination);
        try
        {
            await breaker.ExecuteAsync(static async (state, _) =>
            {
                await state.next().ConfigureAwait(false);
                return Failed(state.context);
            }, (next, context), CancellationToken.None).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            // Open (or half-open with its one trial in flight) since load balancing chose it.
            proxy.ProxiedDestination = destination;
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Features.Set<IForwarderErrorFeature>(new CircuitOpen());
        }
    }

    /// <summary>Whether the request counts against its destination: an error of the destination, a timeout, or a 5xx answer.</summary>
    private static bool Failed(HttpContext context) =>
        context.Features.Get<IForwarderErrorFeature>() is { } error
            ? IsRouteTimeout(context, error) || error.Error is not (ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestCanceled
                or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient)
            : context.Response.StatusCode >= StatusCodes.Status500InternalServerError;

    /// <summary>
    /// Errors after which the request never reached a backend's application, or no answer came: safe to
    /// resend when idempotent. A silent backend (YARP's activity timeout, 100 s by default) is retried only
    /// on a route with its own <c>Timeout</c>, which bounds the attempts together; otherwise one request
    /// could wait a whole activity timeout per attempt.
    /// </summary>
    private static bool IsRetriable(ForwarderError error, RouteConfig route) =>
        error is ForwarderError.Request || (error is ForwarderError.RequestTimedOut && (route.Timeout is not null || route.TimeoutPolicy is not null));

    /// <summary>An idempotent method (RFC 9110 §9.2.2) with no request body to replay.</summary>
    private static bool IsReplayable(HttpContext context) =>
        (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method)
            || HttpMethods.IsTrace(context.Request.Method) || HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsDelete(context.Request.Method))
        && context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false };

    private int RetriesOf(ClusterConfig cluster) =>
        cluster.Metadata?.GetValueOrDefault(RetriesMetadata) is { } text && TryParseRetries(text, out var retries) ? retries : _options.Retries;

    /// <summary>Parses a cluster's <c>Retries</c> metadata: a whole number from 0 to <see cref="ResilienceOptions.RetriesMax"/>.</summary>
    internal static bool TryParseRetries(string text, out int retries) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out retries) && retries <= ResilienceOptions.RetriesMax;

    private IReadOnlyList<DestinationState> WithoutOpenCircuits(IReadOnlyList<DestinationState> destinations)
    {
        foreach (var destination in destinations)
        {
            if (_breakers.IsOpen(destination))
            {
                return destinations.Where(d => !_breakers.IsOpen(d)).ToArray();
            }
        }

        return destinations;
    }

    private void Count(string clusterId, string outcome) =>
        _retries.Add(1, new TagList { { "cluster", clusterId }, { "outcome", outcome } });

    /// <summary>The error a request gets when its destination's circuit is open.</summary>
    private sealed class CircuitOpen : IForwarderErrorFeature
    {
        public ForwarderError Error => ForwarderError.Request;

        public Exception? Exception => null;
    }
}
