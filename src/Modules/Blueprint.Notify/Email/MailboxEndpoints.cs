using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MimeKit;

namespace Blueprint.Notify.Email;

/// <summary>
/// The sink's mailbox over HTTP on the node's port: the list (newest first, <c>?to=</c> filters by recipient), one
/// message as JSON with its headers and bodies, its raw form (<c>message/rfc822</c>), and deletes.
/// </summary>
internal static class MailboxEndpoints
{
    /// <summary>Where the mailbox API lives.</summary>
    public const string Prefix = "/api/notify/mailbox";

    /// <summary>The media type of a raw message.</summary>
    public const string RawMediaType = "message/rfc822";

    /// <summary>Maps <c>/api/notify/mailbox</c>.</summary>
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(Prefix);
        api.MapGet("/", (string? to, Mailbox mailbox) => Results.Ok(mailbox.List(to).Select(Summary).ToList()));
        api.MapGet("/{id}", GetAsync);
        api.MapGet("/{id}/raw", (string id, Mailbox mailbox) =>
            mailbox.OpenRaw(id) is { } raw ? Results.Stream(raw, RawMediaType) : NoMessage(id));
        api.MapDelete("/{id}", (string id, Mailbox mailbox) => mailbox.Delete(id) ? Results.NoContent() : NoMessage(id));
        api.MapDelete("/", (Mailbox mailbox) =>
        {
            mailbox.Clear();
            return Results.NoContent();
        });
    }

    private static async Task<IResult> GetAsync(string id, Mailbox mailbox, CancellationToken cancellationToken)
    {
        if (mailbox.Find(id) is not { } entry || await mailbox.ReadAsync(id, cancellationToken).ConfigureAwait(false) is not { } message)
        {
            return NoMessage(id);
        }

        return Results.Ok(new MailboxMessage(
            entry.Id, entry.From, entry.To, entry.Subject, entry.Received, entry.Size,
            [.. message.Headers.Select(header => new MailHeader(header.Field, header.Value))],
            message.TextBody,
            message.HtmlBody));
    }

    private static MailboxSummary Summary(MailboxEntry entry) => new(entry.Id, entry.From, entry.To, entry.Subject, entry.Received, entry.Size);

    private static IResult NoMessage(string id) =>
        Results.Problem(detail: $"there is no message '{id}' in the mailbox", statusCode: StatusCodes.Status404NotFound, title: "No such message");
}

/// <summary>A message in the mailbox's list.</summary>
/// <param name="Id">Its id.</param>
/// <param name="From">The envelope sender.</param>
/// <param name="To">The envelope recipients.</param>
/// <param name="Subject">The subject.</param>
/// <param name="Received">When the sink accepted it.</param>
/// <param name="Size">Its size in bytes.</param>
internal sealed record MailboxSummary(string Id, string From, IReadOnlyList<string> To, string Subject, DateTimeOffset Received, long Size);

/// <summary>One message with its headers and bodies.</summary>
/// <param name="Id">Its id.</param>
/// <param name="From">The envelope sender.</param>
/// <param name="To">The envelope recipients.</param>
/// <param name="Subject">The subject.</param>
/// <param name="Received">When the sink accepted it.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Headers">Every header in order, the sink's trace headers first, values decoded.</param>
/// <param name="Text">The text/plain body, or null.</param>
/// <param name="Html">The text/html body, or null.</param>
internal sealed record MailboxMessage(
    string Id, string From, IReadOnlyList<string> To, string Subject, DateTimeOffset Received, long Size,
    IReadOnlyList<MailHeader> Headers, string? Text, string? Html);

/// <summary>A header of a message.</summary>
/// <param name="Name">Its field name.</param>
/// <param name="Value">Its value, unfolded and decoded.</param>
internal sealed record MailHeader(string Name, string Value);
