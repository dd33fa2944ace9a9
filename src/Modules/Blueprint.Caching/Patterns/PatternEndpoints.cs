using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Blueprint.Cache.Patterns;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.Caching.Patterns;

/// <summary>
/// One demo per caching pattern over the same SQL table: <c>GET/PUT/DELETE /cache/{pattern}/items/{key}</c> answer
/// with where the value came from and the pattern's counters; <c>GET /cache/{pattern}/stats</c> has the counters
/// (and the write-behind queue's); <c>GET /cache/db/items/{key}</c> reads the table with no cache in the way. Errors
/// are problem+json with the reason.
/// </summary>
internal static partial class PatternEndpoints
{
    /// <summary>The longest key, in characters.</summary>
    public const int KeyLengthMax = 128;

    /// <summary>The largest request body per byte of the longest value: JSON may escape a byte as six characters.</summary>
    private const int BodyBytesPerValueByte = 6;

    /// <summary>Room in a request body for the JSON around the value.</summary>
    private const int BodyOverheadBytes = 256;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/cache").WithTags("cache");
        group.MapGet("/db/items/{key}", ReadDatabaseAsync)
            .WithName("CacheDemoDatabaseItem")
            .WithDescription("What the table holds for the key, with its version and time of last write: no cache in the way.")
            .Produces<DatabaseItemResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{pattern}/items/{key}", GetAsync)
            .WithName("CacheDemoGet")
            .WithDescription("Reads through the pattern; says whether the cache, the write-behind queue or the database answered.")
            .Produces<ItemResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{pattern}/items/{key}", PutAsync)
            .WithName("CacheDemoPut")
            .WithDescription("Writes through the pattern: 200 once in the database (and, for write-through, the cache); 202 for write-behind (in the cache and the queue).")
            .Accepts<PutItemBody>("application/json")
            .Produces<WriteResponse>()
            .Produces<WriteResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapDelete("/{pattern}/items/{key}", DeleteAsync)
            .WithName("CacheDemoDelete")
            .WithDescription("Deletes through the pattern: 200 once acknowledged, 202 for write-behind.")
            .Produces<WriteResponse>()
            .Produces<WriteResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/{pattern}/stats", Stats)
            .WithName("CacheDemoStats")
            .WithDescription("The pattern's counters: database reads and writes, cache hits and misses; for write-behind its queue and policies.")
            .Produces<StatsResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> GetAsync(string pattern, string key, PatternDemos demos, HttpContext context)
    {
        if (Check(demos, pattern, key) is { } problem)
        {
            return problem;
        }

        var found = demos.Find(pattern)!;
        var read = await found.GetAsync(key, context.RequestAborted).ConfigureAwait(false);
        return read.Value is { } value
            ? Results.Json(new ItemResponse(pattern, key, value, SourceName(read.Source), found.Counters.Snapshot()), JsonOptions)
            : Problem(StatusCodes.Status404NotFound, "No such item", $"no item has the key '{key}' (answered by: {SourceName(read.Source)})");
    }

    private static async Task<IResult> PutAsync(string pattern, string key, PatternDemos demos, HttpContext context)
    {
        if (Check(demos, pattern, key) is { } problem)
        {
            return problem;
        }

        var limit = demos.Options.ValueBytesMax;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = ((long)limit * BodyBytesPerValueByte) + BodyOverheadBytes;
        }

        PutItemBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<PutItemBody>(context.Request.Body, JsonOptions, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid item", $"the body is not valid JSON of the form {{\"value\":\"...\"}}: {e.Message}");
        }
        catch (BadHttpRequestException e)
        {
            return Problem(e.StatusCode, "Invalid item", e.Message);
        }

        if (body?.Value is not { } value)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid item", "the body needs a string 'value', e.g. {\"value\":\"hello\"}");
        }

        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > limit)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Value too large", $"the value is {bytes} bytes of UTF-8; at most {limit} (Cache:Patterns:ValueBytesMax)");
        }

        return await WriteAsync(demos, pattern, key, context, (found, token) => found.SetAsync(key, value, token)).ConfigureAwait(false);
    }

    private static async Task<IResult> DeleteAsync(string pattern, string key, PatternDemos demos, HttpContext context) =>
        Check(demos, pattern, key) is { } problem
            ? problem
            : await WriteAsync(demos, pattern, key, context, (found, token) => found.RemoveAsync(key, token)).ConfigureAwait(false);

    private static async Task<IResult> WriteAsync(
        PatternDemos demos, string pattern, string key, HttpContext context, Func<ICachingPattern<string, string>, CancellationToken, ValueTask> write)
    {
        var found = demos.Find(pattern)!;
        var behind = found is WriteBehind<string, string>;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(demos.Options.WriteBehindWaitMilliseconds));
        try
        {
            await write(found, behind ? timeout.Token : context.RequestAborted).ConfigureAwait(false);
        }
        catch (WriteBehindRejectedException e)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problem(StatusCodes.Status503ServiceUnavailable, "Write not acknowledged", e.Message);
        }
        catch (OperationCanceledException) when (behind && timeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problem(StatusCodes.Status503ServiceUnavailable, "Write not acknowledged",
                $"the write-behind queue stayed full for {demos.Options.WriteBehindWaitMilliseconds} ms (Cache:Patterns:WriteBehindWaitMilliseconds)");
        }
        catch (CacheWriteException e)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "Written to the database only", e.Message);
        }

        var response = new WriteResponse(pattern, key, behind ? "cache and write-behind queue" : Acknowledged(found), found.Counters.Snapshot());
        return Results.Json(response, JsonOptions, statusCode: behind ? StatusCodes.Status202Accepted : StatusCodes.Status200OK);
    }

    private static IResult Stats(string pattern, PatternDemos demos)
    {
        if (demos.Find(pattern) is not { } found)
        {
            return UnknownPattern(pattern);
        }

        var behind = found as WriteBehind<string, string>;
        var options = behind?.Options;
        return Results.Json(new StatsResponse(
            pattern,
            demos.Options.TtlSeconds,
            found.Counters.Snapshot(),
            behind?.Stats,
            options is null ? null : new WriteBehindPolicy(
                options.QueueCapacity, options.BatchSizeMax, (long)options.FlushDelayMax.TotalMilliseconds, options.FullPolicy.ToString(),
                options.WriteAttemptsMax, (long)options.RetryDelayFirst.TotalMilliseconds, (long)options.RetryDelayMax.TotalMilliseconds),
            behind?.DeadLetters.Select(letter => letter.Write.Key).ToList()), JsonOptions);
    }

    private static async Task<IResult> ReadDatabaseAsync(string key, PatternDemos demos, HttpContext context)
    {
        if (!IsKey(key))
        {
            return InvalidKey();
        }

        var record = await demos.Store.LoadRecordAsync(key, context.RequestAborted).ConfigureAwait(false);
        return record is null
            ? Problem(StatusCodes.Status404NotFound, "No such item", $"the table holds no item with the key '{key}'")
            : Results.Json(new DatabaseItemResponse(record.Key, record.Value, record.Version, record.UpdatedAt), JsonOptions);
    }

    private static IResult? Check(PatternDemos demos, string pattern, string key) =>
        demos.Find(pattern) is null ? UnknownPattern(pattern) : IsKey(key) ? null : InvalidKey();

    private static bool IsKey(string key) => KeyPattern().IsMatch(key);

    private static string Acknowledged(ICachingPattern<string, string> pattern) =>
        pattern is WriteThrough<string, string> ? "database and cache" : "database, cache key deleted";

    private static string SourceName(ReadSource source) => source switch
    {
        ReadSource.Cache => "cache",
        ReadSource.Queue => "queue",
        _ => "database",
    };

    private static IResult UnknownPattern(string pattern) => Problem(StatusCodes.Status404NotFound, "Unknown pattern",
        $"'{pattern}' is not a caching pattern here; use one of {string.Join(", ", PatternDemos.Names)}");

    private static IResult InvalidKey() => Problem(StatusCodes.Status400BadRequest, "Invalid key",
        string.Create(CultureInfo.InvariantCulture, $"a key is 1 to {KeyLengthMax} characters of letters, digits, ':', '_', '-' or '.'"));

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);

    [GeneratedRegex(@"^[A-Za-z0-9:_\-.]{1,128}$")]
    private static partial Regex KeyPattern();
}

/// <summary>The body of a PUT.</summary>
/// <param name="Value">The value to store.</param>
internal sealed record PutItemBody(string? Value);

/// <summary>A read through a pattern.</summary>
internal sealed record ItemResponse(string Pattern, string Key, string Value, string Source, PatternStats Stats);

/// <summary>An acknowledged write: what it is in when acknowledged.</summary>
internal sealed record WriteResponse(string Pattern, string Key, string Acknowledged, PatternStats Stats);

/// <summary>A pattern's counters, and for write-behind its queue, policies and the keys of its recent dead letters.</summary>
internal sealed record StatsResponse(string Pattern, int TtlSeconds, PatternStats Counters, WriteBehindStats? Queue, WriteBehindPolicy? Policy, IReadOnlyList<string>? DeadLetterKeys);

/// <summary>The write-behind's limits and policies.</summary>
internal sealed record WriteBehindPolicy(int QueueCapacity, int BatchSizeMax, long FlushDelayMs, string FullPolicy, int WriteAttemptsMax, long RetryDelayFirstMs, long RetryDelayMaxMs);

/// <summary>An item as the table holds it.</summary>
internal sealed record DatabaseItemResponse(string Key, string Value, long Version, DateTimeOffset UpdatedAt);
