using Blueprint.RateLimit.Grpc.Envoy;
using Blueprint.RateLimit.Rules;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using EnvoyCode = Blueprint.RateLimit.Grpc.Envoy.RateLimitResponse.Types.Code;
using EnvoyUnit = Blueprint.RateLimit.Grpc.Envoy.RateLimitResponse.Types.RateLimit.Types.Unit;

namespace Blueprint.RateLimit.Grpc;

/// <summary>
/// Envoy's rate limit service protocol, <c>envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit</c>,
/// on the same decisions and counters as <c>POST /v1/ratelimit/check</c>: Envoy (or any RLS client)
/// points its rate limit cluster at the node's gRPC port. <c>hits_addend</c> 0 counts as 1, as in
/// Envoy; a descriptor's <c>limit</c> override is ignored (the configured rules decide). A request
/// that is not one (no domain, no or too many descriptors, an empty key) fails with
/// <see cref="StatusCode.InvalidArgument"/>.
/// </summary>
public sealed class RlsService : Envoy.RateLimitService.RateLimitServiceBase
{
    private readonly RateLimitService _service;

    /// <summary>Creates the service over the node's rate limiter.</summary>
    public RlsService(RateLimitService service) => _service = service;

    /// <inheritdoc />
    public override async Task<RateLimitResponse> ShouldRateLimit(Envoy.RateLimitRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RateLimitResult result;
        try
        {
            result = await _service.CheckAsync(ToCheck(request), context.CancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRateLimitRequestException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }

        return ToResponse(result);
    }

    /// <summary>The check a request stands for; throws <see cref="RpcException"/> for a hits_addend beyond <see cref="int.MaxValue"/>.</summary>
    internal static RateLimitRequest ToCheck(Envoy.RateLimitRequest request)
    {
        if (request.HitsAddend > int.MaxValue)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"hits_addend must be at most {int.MaxValue}; got {request.HitsAddend}"));
        }

        var descriptors = request.Descriptors
            .Select(descriptor => (IReadOnlyList<DescriptorEntry>)descriptor.Entries.Select(entry => new DescriptorEntry(entry.Key, entry.Value)).ToList())
            .ToList();
        return new RateLimitRequest(request.Domain, descriptors, request.HitsAddend == 0 ? 1 : (int)request.HitsAddend);
    }

    /// <summary>The RLS response for a decision: statuses in the request's order.</summary>
    internal static RateLimitResponse ToResponse(RateLimitResult result)
    {
        var response = new RateLimitResponse { OverallCode = result.OverLimit ? EnvoyCode.OverLimit : EnvoyCode.Ok };
        foreach (var status in result.Statuses)
        {
            response.Statuses.Add(ToStatus(status));
        }

        return response;
    }

    private static RateLimitResponse.Types.DescriptorStatus ToStatus(DescriptorStatus status)
    {
        var descriptor = new RateLimitResponse.Types.DescriptorStatus
        {
            // As the HTTP check: a shadow-mode rule over its limit says so here, while the overall
            // code (the one Envoy acts on) stays OK.
            Code = status.Code switch
            {
                DescriptorCode.Ok => EnvoyCode.Ok,
                DescriptorCode.OverLimit => EnvoyCode.OverLimit,
                _ => EnvoyCode.Unknown,
            },
            LimitRemaining = (uint)Math.Clamp(status.RemainingPermits, 0, uint.MaxValue),
        };
        if (status.Rule is { Limit.Unlimited: false } rule)
        {
            descriptor.CurrentLimit = new RateLimitResponse.Types.RateLimit
            {
                Name = rule.Rule.Path,
                RequestsPerUnit = (uint)Math.Clamp(rule.Limit.Spec.RequestsPerUnit, 0, uint.MaxValue),
                Unit = ToUnit(rule.Limit.Spec.Unit),
            };
        }

        if (status.Code != DescriptorCode.Unknown)
        {
            descriptor.DurationUntilReset = Duration.FromTimeSpan(status.ResetAfter < TimeSpan.Zero ? TimeSpan.Zero : status.ResetAfter);
        }

        return descriptor;
    }

    private static EnvoyUnit ToUnit(TimeSpan unit) => unit.TotalSeconds switch
    {
        1 => EnvoyUnit.Second,
        60 => EnvoyUnit.Minute,
        3600 => EnvoyUnit.Hour,
        86_400 => EnvoyUnit.Day,
        _ => EnvoyUnit.Unknown,
    };
}
