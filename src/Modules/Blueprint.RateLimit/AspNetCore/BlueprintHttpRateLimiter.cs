using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Blueprint.RateLimit.Rules;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Blueprint.RateLimit.AspNetCore;

/// <summary>
/// A <see cref="PartitionedRateLimiter{HttpContext}"/> for <c>app.UseRateLimiter()</c> whose decisions
/// are the distributed rules: every node of a cluster shares the counters in the KV. The request's
/// partitions (client IP, API key, user, route) become descriptors of <see cref="HttpRateLimitOptions.Domain"/>.
/// </summary>
/// <remarks>
/// The middleware first calls the synchronous <c>AttemptAcquire</c>, then <c>AcquireAsync</c> when that
/// did not acquire. A decision needs a round trip to the KV, so the synchronous path answers "not yet"
/// without side effects and the asynchronous path decides. Accepted and rejected responses both carry
/// the IETF <c>RateLimit-Policy</c> and <c>RateLimit</c> header fields for the tightest rule.
/// </remarks>
public sealed class BlueprintHttpRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private readonly RateLimitService _service;
    private readonly HttpRateLimitOptions _options;
    private readonly HashSet<IPAddress> _trustedProxies;

    /// <summary>Creates the limiter.</summary>
    public BlueprintHttpRateLimiter(RateLimitService service, IOptions<HttpRateLimitOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _service = service;
        _options = options.Value;
        _trustedProxies = _options.TrustedProxies.Select(IPAddress.Parse).ToHashSet();
    }

    /// <inheritdoc />
    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => DecisionLease.Undecided;

    /// <inheritdoc />
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (IsExcluded(resource.Request.Path))
        {
            return DecisionLease.Unlimited;
        }

        var descriptors = Descriptors(resource);
        if (descriptors.Count == 0)
        {
            return DecisionLease.Unlimited;
        }

        var result = await _service.CheckAsync(new RateLimitRequest(_options.Domain, descriptors, permitCount), cancellationToken).ConfigureAwait(false);
        if (Tightest(result) is { } tightest)
        {
            WriteHeaders(resource.Response, tightest);
        }

        return new DecisionLease(!result.OverLimit, result.OverLimit ? result.RetryAfter : null);
    }

    private bool IsExcluded(PathString path)
    {
        foreach (var excluded in _options.ExcludedPaths)
        {
            if (path.StartsWithSegments(excluded, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // The status whose headers the client sees: one over its limit first, else the one with least left.
    private static DescriptorStatus? Tightest(RateLimitResult result)
    {
        DescriptorStatus? tightest = null;
        foreach (var status in result.Statuses)
        {
            if (status.Rule is not { Limit.Unlimited: false })
            {
                continue;
            }

            var over = status.Code == DescriptorCode.OverLimit;
            var tightestOver = tightest?.Code == DescriptorCode.OverLimit;
            if (tightest is null || (over && !tightestOver) || (over == tightestOver && status.RemainingPermits < tightest.RemainingPermits))
            {
                tightest = status;
            }
        }

        return tightest;
    }

    /// <summary>The descriptors of <paramref name="context"/>, one per enabled partition.</summary>
    public IReadOnlyList<IReadOnlyList<DescriptorEntry>> Descriptors(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var descriptors = new List<IReadOnlyList<DescriptorEntry>>(4);
        if (_options.ByClientIp && ClientIp(context) is { } ip)
        {
            descriptors.Add([new DescriptorEntry("remote_address", ip.ToString())]);
        }

        if (_options.ApiKeyHeader is { Length: > 0 } header && context.Request.Headers[header].ToString() is { Length: > 0 } key)
        {
            descriptors.Add([new DescriptorEntry("api_key", key)]);
        }

        if (_options.UserClaim is { Length: > 0 } claim && context.User.FindFirst(claim)?.Value is { Length: > 0 } user)
        {
            descriptors.Add([new DescriptorEntry("user", user)]);
        }

        if (_options.ByRoute && context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
        {
            descriptors.Add([new DescriptorEntry("route", route)]);
        }

        return descriptors;
    }

    /// <summary>
    /// The client's address: the connection's peer, or — only when that peer is a trusted proxy —
    /// the right-most <c>X-Forwarded-For</c> address that is not itself a trusted proxy.
    /// </summary>
    public IPAddress? ClientIp(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null || !_trustedProxies.Contains(Normalize(peer)))
        {
            return peer;
        }

        var forwarded = context.Request.Headers["X-Forwarded-For"].ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = forwarded.Length - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(forwarded[i], out var hop))
            {
                // A malformed hop: trust stops here, the last trusted peer is the client we know.
                return peer;
            }

            if (!_trustedProxies.Contains(Normalize(hop)))
            {
                return hop;
            }
        }

        return peer;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static void WriteHeaders(HttpResponse response, DescriptorStatus status)
    {
        var spec = status.Rule!.Limit.Spec;
        var policy = status.Rule.Rule.Path.Replace("\"", "", StringComparison.Ordinal);
        var window = (long)spec.Unit.TotalSeconds;
        var reset = (long)Math.Ceiling(status.ResetAfter.TotalSeconds);
        response.Headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"\"{policy}\";q={spec.RequestsPerUnit};w={window}");
        response.Headers["RateLimit"] = string.Create(CultureInfo.InvariantCulture, $"\"{policy}\";r={Math.Max(0, status.RemainingPermits)};t={reset}");
    }
}

/// <summary>A lease that carries the decision and, when rejected, the wait.</summary>
internal sealed class DecisionLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
{
    /// <summary>No decision yet: the synchronous path's answer when the decision needs the KV.</summary>
    public static readonly RateLimitLease Undecided = new DecisionLease(false, null);

    /// <summary>Acquired without a check.</summary>
    public static readonly RateLimitLease Unlimited = new DecisionLease(true, null);

    public override bool IsAcquired => acquired;

    public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = wait;
            return true;
        }

        metadata = null;
        return false;
    }
}
