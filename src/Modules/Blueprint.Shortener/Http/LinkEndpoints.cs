using System.Globalization;
using System.Text.Json;
using Blueprint.Shortener.Access;
using Blueprint.Shortener.Caching;
using Blueprint.Shortener.Clicks;
using Blueprint.Shortener.Storage;
using Blueprint.Shortener.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Blueprint.Shortener.Http;

/// <summary>
/// The shortener's HTTP surface: <c>GET /{code}</c> redirects; <c>/api/links</c> manages links
/// with an API key (<c>X-Api-Key</c>, or <c>Authorization: Bearer</c>). Errors are problem+json
/// with the reason.
/// </summary>
internal static class LinkEndpoints
{
    /// <summary>The largest create body: 16 KiB (a 2048-character URL and options fit many times).</summary>
    public const long BodyBytesMax = 16 * 1024;

    /// <summary>The most links one list page returns.</summary>
    public const int PageSizeMax = 1000;

    private const string ApiKeyHeader = "X-Api-Key";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Resolved at the first request, not here: resolving validates options, which the node's preflight reports first, all at once.
        var redirect = RedirectServices.Later(endpoints.ServiceProvider);

        // The hot path (GET, and HEAD as curl -I sends): a plain RequestDelegate, services resolved once, no allocation on a near-cache hit beyond the click.
        endpoints.MapMethods("/{code}", [HttpMethods.Get, HttpMethods.Head], context => Redirect(context, redirect.Value))
            .WithName("Redirect")
            .WithDescription("Redirects to the link's target: 302 (or 301 when the link asks), 410 once expired, 404 for an unknown code.")
            .WithMetadata(
                new ProducesResponseTypeMetadata(StatusCodes.Status302Found),
                new ProducesResponseTypeMetadata(StatusCodes.Status301MovedPermanently),
                new ProducesResponseTypeMetadata(StatusCodes.Status404NotFound),
                new ProducesResponseTypeMetadata(StatusCodes.Status410Gone));

        var api = endpoints.MapGroup("/api/links").WithTags("shortener");
        api.MapPost("", CreateAsync)
            .WithName("CreateLink")
            .WithDescription("Creates a short link. Needs an API key unless anonymous creation is enabled (then limited per client IP).")
            .Accepts<CreateLinkBody>("application/json")
            .Produces<LinkResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("", ListAsync)
            .WithName("ListLinks")
            .WithDescription("Lists links in code order, a page at a time: pass the previous page's nextCursor as cursor.")
            .Produces<LinkPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        api.MapGet("/{code}", GetAsync)
            .WithName("GetLink")
            .Produces<LinkResponse>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{code}", DeleteAsync)
            .WithName("DeleteLink")
            .WithDescription("Deletes a link; every node stops redirecting it.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{code}/stats", StatsAsync)
            .WithName("LinkStats")
            .WithDescription("Total clicks, clicks per day, top referrers, user-agent families and approximate unique visitors (HyperLogLog).")
            .Produces<StatsResponse>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// The redirect of a code in the near cache, answered before error handling and routing: no
    /// await, no allocation beyond the code. Everything else — a miss, another method, another
    /// path — goes on to the <c>/{code}</c> endpoint, which answers the same way.
    /// </summary>
    public static void UseHotRedirects(IApplicationBuilder app)
    {
        var redirect = RedirectServices.Later(app.ApplicationServices);
        app.Use(next => context =>
        {
            var path = context.Request.Path.Value;
            if (path is { Length: > AliasRules.LengthMin and <= AliasRules.LengthMax + 1 }
                && path.IndexOf('/', 1) < 0
                && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
            {
                var code = path[1..];
                var services = redirect.Value;
                if (services.Cache.TryGetNear(code, out var link))
                {
                    return Respond(context, code, link, services.Clicks, services.Metrics, services.Time);
                }
            }

            return next(context);
        });
    }

    private sealed record RedirectServices(LinkCache Cache, ClickRecorder Clicks, ShortenerMetrics Metrics, TimeProvider Time)
    {
        public static Lazy<RedirectServices> Later(IServiceProvider services) => new(() => new RedirectServices(
            services.GetRequiredService<LinkCache>(),
            services.GetRequiredService<ClickRecorder>(),
            services.GetRequiredService<ShortenerMetrics>(),
            services.GetRequiredService<TimeProvider>()));
    }

    private static Task Redirect(HttpContext context, RedirectServices services)
    {
        var (cache, clicks, metrics, time) = services;
        var code = (string)context.Request.RouteValues["code"]!;
        if (!ShortenerService.IsPlausibleCode(code))
        {
            metrics.Redirect("not_found");
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var lookup = cache.FindAsync(code, context.RequestAborted);
        return lookup.IsCompletedSuccessfully
            ? Respond(context, code, lookup.Result, clicks, metrics, time)
            : AwaitThenRespond(context, code, lookup, clicks, metrics, time);
    }

    private static async Task AwaitThenRespond(HttpContext context, string code, ValueTask<CachedLink?> lookup, ClickRecorder clicks, ShortenerMetrics metrics, TimeProvider time) =>
        await Respond(context, code, await lookup.ConfigureAwait(false), clicks, metrics, time).ConfigureAwait(false);

    private static Task Respond(HttpContext context, string code, CachedLink? link, ClickRecorder clicks, ShortenerMetrics metrics, TimeProvider time)
    {
        var response = context.Response;
        if (link is null)
        {
            metrics.Redirect("not_found");
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (now >= link.ExpiresAtMs)
        {
            metrics.Redirect("expired");
            response.StatusCode = StatusCodes.Status410Gone;
            return Task.CompletedTask;
        }

        response.StatusCode = link.RedirectType;
        response.Headers.Location = link.Url;
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method))
        {
            // HEAD is a link checker asking, not a visit.
            clicks.Record(code, now, request.Headers.Referer, request.Headers.UserAgent, context.Connection.RemoteIpAddress);
        }
        return Task.CompletedTask;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ShortenerService service, ApiKeyVerifier keys, AnonymousLimiter anonymous, IOptions<ShortenerOptions> options)
    {
        if (!await IsAuthorizedAsync(context, keys).ConfigureAwait(false))
        {
            if (!options.Value.AllowAnonymous)
            {
                return Unauthorized();
            }

            var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var (allowed, retryAfter) = await anonymous.TryAcquireAsync(client, context.RequestAborted).ConfigureAwait(false);
            if (!allowed)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status429TooManyRequests, "Too many links", $"anonymous creation is limited to {options.Value.AnonymousCreatesPerMinute} links per minute per client; use an API key for more");
            }
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = BodyBytesMax;
        }

        CreateLinkBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<CreateLinkBody>(context.Request.Body, JsonOptions, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return Invalid($"the body is not a valid link request: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            return Problem(e.StatusCode, "Invalid link", e.Message);
        }

        if (body is null)
        {
            return Invalid("the body needs at least 'url', e.g. {\"url\":\"https://example.com/a\"}");
        }

        var (link, error, reason) = await service.CreateAsync(
            new CreateLink(body.Url, body.Alias, body.ExpiresAt, body.RedirectType ?? 302, context.Request.Host.Value),
            context.RequestAborted).ConfigureAwait(false);
        return error switch
        {
            CreateError.Invalid => Invalid(reason),
            CreateError.AliasTaken => Problem(StatusCodes.Status409Conflict, "Alias taken", reason),
            _ => Results.Json(ToResponse(link!, context, options.Value), JsonOptions, statusCode: StatusCodes.Status201Created),
        };
    }

    private static async Task<IResult> GetAsync(string code, HttpContext context, ShortenerService service, ApiKeyVerifier keys, IOptions<ShortenerOptions> options)
    {
        if (!await IsAuthorizedAsync(context, keys).ConfigureAwait(false))
        {
            return Unauthorized();
        }

        var link = await service.GetAsync(code, context.RequestAborted).ConfigureAwait(false);
        return link is null ? NotFound(code) : Results.Json(ToResponse(link, context, options.Value), JsonOptions);
    }

    private static async Task<IResult> DeleteAsync(string code, HttpContext context, ShortenerService service, ApiKeyVerifier keys)
    {
        if (!await IsAuthorizedAsync(context, keys).ConfigureAwait(false))
        {
            return Unauthorized();
        }

        return await service.DeleteAsync(code, context.RequestAborted).ConfigureAwait(false) ? Results.NoContent() : NotFound(code);
    }

    private static async Task<IResult> ListAsync(HttpContext context, ShortenerService service, ApiKeyVerifier keys, IOptions<ShortenerOptions> options, string? cursor = null, int? limit = null)
    {
        if (!await IsAuthorizedAsync(context, keys).ConfigureAwait(false))
        {
            return Unauthorized();
        }

        var size = limit ?? 50;
        if (size is < 1 or > PageSizeMax)
        {
            return Invalid($"limit must be from 1 to {PageSizeMax}");
        }

        if (cursor is not null && !ShortenerService.IsPlausibleCode(cursor))
        {
            return Invalid("cursor is not one this API returned");
        }

        var page = await service.ListAsync(cursor, size, context.RequestAborted).ConfigureAwait(false);
        var next = page.Count == size ? page[^1].Code : null;
        return Results.Json(new LinkPage(page.Select(link => ToResponse(link, context, options.Value)).ToList(), next), JsonOptions);
    }

    private static async Task<IResult> StatsAsync(string code, HttpContext context, ShortenerService service, ApiKeyVerifier keys)
    {
        if (!await IsAuthorizedAsync(context, keys).ConfigureAwait(false))
        {
            return Unauthorized();
        }

        if (await service.GetAsync(code, context.RequestAborted).ConfigureAwait(false) is null)
        {
            return NotFound(code);
        }

        var (stats, unique) = await service.StatsAsync(code, context.RequestAborted).ConfigureAwait(false);
        return Results.Json(new StatsResponse(
            code,
            stats.TotalClicks,
            unique,
            stats.PerDay.Select(day => new DayClicks(day.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), day.Clicks)).ToList(),
            stats.TopReferrers.Select(pair => new ReferrerClicks(pair.Referrer, pair.Clicks)).ToList(),
            stats.UserAgents.Select(pair => new AgentClicks(pair.Family, pair.Clicks)).ToList()), JsonOptions);
    }

    private static async ValueTask<bool> IsAuthorizedAsync(HttpContext context, ApiKeyVerifier keys)
    {
        string? key = context.Request.Headers[ApiKeyHeader];
        if (key is null && context.Request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization["Bearer ".Length..].Trim();
        }

        return await keys.IsValidAsync(key, context.RequestAborted).ConfigureAwait(false);
    }

    internal static LinkResponse ToResponse(Link link, HttpContext context, ShortenerOptions options)
    {
        var root = string.IsNullOrWhiteSpace(options.BaseUrl)
            ? $"{context.Request.Scheme}://{context.Request.Host.Value}"
            : options.BaseUrl.TrimEnd('/');
        return new LinkResponse(link.Code, $"{root}/{link.Code}", link.Url, link.ExpiresAt, link.CreatedAt, link.RedirectType);
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static IResult Invalid(string reason) => Problem(StatusCodes.Status400BadRequest, "Invalid link", reason);

    private static IResult NotFound(string code) => Problem(StatusCodes.Status404NotFound, "No such link", $"no link has the code '{code}'");

    private static IResult Unauthorized() => Problem(StatusCodes.Status401Unauthorized, "API key required",
        $"send a key of this node in the {ApiKeyHeader} header; create one with: blueprint shortener create-key --data-dir <the node's data dir>");

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}

/// <summary>The body of <c>POST /api/links</c>.</summary>
/// <param name="Url">The absolute http(s) URL to redirect to.</param>
/// <param name="Alias">A custom code: 3–64 of <c>[A-Za-z0-9_-]</c>, not reserved.</param>
/// <param name="ExpiresAt">When the link stops redirecting (410 from then on).</param>
/// <param name="RedirectType">301 or 302 (default).</param>
internal sealed record CreateLinkBody(string? Url, string? Alias, DateTimeOffset? ExpiresAt, int? RedirectType);

/// <summary>A link.</summary>
internal sealed record LinkResponse(string Code, string ShortUrl, string Url, DateTimeOffset? ExpiresAt, DateTimeOffset CreatedAt, int RedirectType);

/// <summary>A page of links.</summary>
internal sealed record LinkPage(IReadOnlyList<LinkResponse> Items, string? NextCursor);

/// <summary>A link's statistics.</summary>
internal sealed record StatsResponse(string Code, long TotalClicks, long UniqueVisitors, IReadOnlyList<DayClicks> ClicksPerDay, IReadOnlyList<ReferrerClicks> TopReferrers, IReadOnlyList<AgentClicks> UserAgents);

/// <summary>Clicks on one UTC day.</summary>
internal sealed record DayClicks(string Day, long Clicks);

/// <summary>Clicks from one referrer host.</summary>
internal sealed record ReferrerClicks(string Referrer, long Clicks);

/// <summary>Clicks from one user-agent family.</summary>
internal sealed record AgentClicks(string Family, long Clicks);
