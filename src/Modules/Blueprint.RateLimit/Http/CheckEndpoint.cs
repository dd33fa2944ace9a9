using System.Text.Json;
using System.Text.Json.Serialization;
using Blueprint.Core.RateLimiting.Stores;
using Blueprint.RateLimit.Rules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.RateLimit.Http;

/// <summary>
/// <c>POST /v1/ratelimit/check</c>: the HTTP twin of Envoy's RLS <c>ShouldRateLimit</c>, with the
/// same field names in snake_case JSON. Always 200 with a decision; 400 problem+json for a request
/// that is not one.
/// </summary>
internal static class CheckEndpoint
{
    /// <summary>The largest request body: 64 KiB.</summary>
    public const long BodyBytesMax = 64 * 1024;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/ratelimit/check", HandleAsync)
            .WithName("CheckRateLimit")
            .WithDescription("Decide whether a request described by a domain and descriptors is within its limits (Envoy RLS semantics).")
            .Produces<CheckResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> HandleAsync(HttpContext context, RateLimitService service)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = BodyBytesMax;
        }

        CheckRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<CheckRequest>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException e)
        {
            return Problem($"the body is not a valid check request: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            return Problem(e.Message, e.StatusCode);
        }

        if (body?.Domain is null || body.Descriptors is null)
        {
            return Problem("the body needs 'domain' and 'descriptors', e.g. {\"domain\":\"api\",\"descriptors\":[{\"entries\":[{\"key\":\"remote_address\",\"value\":\"10.0.0.1\"}]}]}");
        }

        try
        {
            var request = new RateLimitRequest(
                body.Domain,
                body.Descriptors.Select(d => (IReadOnlyList<DescriptorEntry>)(d.Entries ?? []).Select(e => new DescriptorEntry(e.Key ?? "", e.Value!)).ToList()).ToList(),
                body.HitsAddend ?? 1);
            var result = await service.CheckAsync(request, context.RequestAborted);
            return Results.Json(ToResponse(result), Json);
        }
        catch (InvalidRateLimitRequestException e)
        {
            return Problem(e.Message);
        }
    }

    private static IResult Problem(string detail, int status = StatusCodes.Status400BadRequest) =>
        Results.Problem(detail: detail, statusCode: status, title: "Invalid rate-limit check");

    internal static CheckResponse ToResponse(RateLimitResult result) => new(
        result.OverLimit ? "OVER_LIMIT" : "OK",
        result.Statuses.Select(status => new StatusResponse(
            status.Code switch { DescriptorCode.Ok => "OK", DescriptorCode.OverLimit => "OVER_LIMIT", _ => "UNKNOWN" },
            status.Rule?.Rule.Path,
            status.Rule is { Limit.Unlimited: false } rule ? new LimitResponse(rule.Limit.Spec.RequestsPerUnit, UnitName(rule.Limit.Spec.Unit), AlgorithmName(rule.Limit.Spec.Algorithm)) : null,
            status.RemainingPermits,
            (long)Math.Ceiling(status.RetryAfter.TotalMilliseconds),
            (long)Math.Ceiling(status.ResetAfter.TotalMilliseconds),
            status.ShadowLimited,
            status.Degraded)).ToList());

    internal static string UnitName(TimeSpan unit) => unit.TotalSeconds switch
    {
        1 => "SECOND",
        60 => "MINUTE",
        3600 => "HOUR",
        _ => "DAY",
    };

    internal static string AlgorithmName(RateLimitAlgorithm algorithm) => algorithm switch
    {
        RateLimitAlgorithm.TokenBucket => "token_bucket",
        RateLimitAlgorithm.Gcra => "gcra",
        RateLimitAlgorithm.SlidingWindowCounter => "sliding_window_counter",
        RateLimitAlgorithm.SlidingLog => "sliding_log",
        RateLimitAlgorithm.FixedWindow => "fixed_window",
        _ => "leaky_bucket",
    };
}

/// <summary>The check request body.</summary>
internal sealed record CheckRequest(string? Domain, IReadOnlyList<DescriptorBody>? Descriptors, int? HitsAddend);

/// <summary>One descriptor.</summary>
internal sealed record DescriptorBody(IReadOnlyList<EntryBody>? Entries);

/// <summary>One entry.</summary>
internal sealed record EntryBody(string? Key, string? Value);

/// <summary>The check response body.</summary>
internal sealed record CheckResponse(string OverallCode, IReadOnlyList<StatusResponse> Statuses);

/// <summary>One descriptor's status.</summary>
internal sealed record StatusResponse(string Code, string? Rule, LimitResponse? CurrentLimit, long LimitRemaining, long RetryAfterMs, long DurationUntilResetMs, bool ShadowMode, bool Degraded);

/// <summary>A limit as reported.</summary>
internal sealed record LimitResponse(long RequestsPerUnit, string Unit, string Algorithm);
