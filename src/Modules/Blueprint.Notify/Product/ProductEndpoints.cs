using System.Text.Json;
using Blueprint.Notify.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.Notify.Product;

/// <summary>The product API: users with their channels, preferences and quiet hours; templates; sends to users.</summary>
internal static class ProductEndpoints
{
    /// <summary>A user as the API takes it.</summary>
    internal sealed record UserBody(
        Dictionary<string, string>? Channels, Dictionary<string, string>? Data, Dictionary<string, List<string>>? Preferences, QuietHours? QuietHours, string? TimeZone);

    /// <summary>A template as the API takes it.</summary>
    internal sealed record TemplateBody(string? Subject, Dictionary<string, string>? Bodies);

    /// <summary>A send.</summary>
    internal sealed record SendBody(List<string>? Users, string? Template, string? Category, string? Priority, JsonElement Data, DateTimeOffset? SendAt, string? Digest);

    /// <summary>Maps <c>/api/notify/users</c>, <c>/api/notify/templates</c> and <c>/api/notify/send</c>.</summary>
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/notify");
        api.MapPut("/users/{id}", PutUserAsync);
        api.MapGet("/users/{id}", (string id, NotifyState state) => state.FindUser(id) is { } user ? Results.Ok(user) : NoUser(id));
        api.MapDelete("/users/{id}", async (string id, UserDirectory users, CancellationToken cancellationToken) =>
            await users.DeleteAsync(id, cancellationToken).ConfigureAwait(false) ? Results.NoContent() : NoUser(id));
        api.MapPut("/templates/{name}", PutTemplateAsync);
        api.MapGet("/templates/{name}", (string name, NotifyState state) => state.FindTemplate(name) is { } template ? Results.Ok(template) : NoTemplate(name));
        api.MapDelete("/templates/{name}", async (string name, NotifyState state, CancellationToken cancellationToken) =>
        {
            if (state.FindTemplate(name) is null)
            {
                return NoTemplate(name);
            }

            await state.DeleteTemplateAsync(name, cancellationToken).ConfigureAwait(false);
            return Results.NoContent();
        });
        api.MapPost("/send", SendAsync);
        api.MapGet("/scheduled", (NotifyState state) => Results.Ok(new
        {
            scheduled = state.Scheduled.Select(record => new { messageId = record.Id, dueAt = record.DueAt }),
            digests = state.Digests.Select(record => new { user = record.User, category = record.Category, dueAt = record.DueAt, items = record.Items.Count }),
        }));
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);

    private static IResult NoUser(string id) => Problem(StatusCodes.Status404NotFound, "Unknown user", $"there is no user '{id}'");

    private static IResult NoTemplate(string name) => Problem(StatusCodes.Status404NotFound, "Unknown template", $"there is no template '{name}'");

    private static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request, string shape, CancellationToken cancellationToken)
    {
        try
        {
            return (await request.ReadFromJsonAsync<T>(cancellationToken).ConfigureAwait(false), null);
        }
        catch (JsonException e)
        {
            return (default, Problem(StatusCodes.Status400BadRequest, "Invalid body", $"send {shape}: {e.Message}"));
        }
        catch (InvalidOperationException e)
        {
            return (default, Problem(StatusCodes.Status415UnsupportedMediaType, "Invalid body", e.Message));
        }
    }

    private static async Task<IResult> PutUserAsync(string id, HttpRequest request, UserDirectory users, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync<UserBody>(request, "{\"channels\": {\"email\": \"…\"}, \"data\": {}, \"preferences\": {\"category\": [\"email\"]}}", cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var user = new UserRecord(id, body?.Channels ?? [], body?.Data ?? [], body?.Preferences ?? [], body?.QuietHours, body?.TimeZone ?? "UTC");
        if (users.Check(user) is { } refused)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid user", refused);
        }

        await users.PutAsync(user, cancellationToken).ConfigureAwait(false);
        return Results.Ok(user);
    }

    private static async Task<IResult> PutTemplateAsync(string name, HttpRequest request, NotifyState state, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync<TemplateBody>(request, "{\"subject\": \"…\", \"bodies\": {\"default\": \"Hello {{ user.name }}\"}}", cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var template = new TemplateRecord(name, body?.Subject, body?.Bodies ?? []);
        var refused = name.Length is 0 or > 120 ? "a template name is 1 to 120 characters" : Templates.Check(template);
        if (refused is not null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid template", refused);
        }

        await state.PutTemplateAsync(template, cancellationToken).ConfigureAwait(false);
        return Results.Ok(template);
    }

    private static async Task<IResult> SendAsync(HttpRequest request, Sender sender, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync<SendBody>(request, "{\"users\": [\"…\"], \"template\": \"…\", \"category\": \"…\", \"data\": {}}", cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        if (body?.Template is not { Length: > 0 } template)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid send", "name a template");
        }

        TimeSpan? digest = null;
        if (body.Digest is { } window)
        {
            if (NotifyOptions.ParseDelays(window) is not [var parsed])
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid send", "digest is one window such as 10m or 1h (from 10ms to 24h)");
            }

            digest = parsed;
        }

        try
        {
            var sent = await sender.SendAsync(body.Users ?? [], template, body.Category ?? "general", body.Priority ?? "normal", body.Data, body.SendAt, digest, cancellationToken).ConfigureAwait(false);
            return Results.Json(new { messages = sent }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (Sender.SendException e) when (e.RetryAfter is { } wait)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
            request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problem(e.Status, "Too many sends", $"{e.Message}; retry after {seconds} s");
        }
        catch (Sender.SendException e)
        {
            return Problem(e.Status, "Send refused", e.Message);
        }
    }
}
