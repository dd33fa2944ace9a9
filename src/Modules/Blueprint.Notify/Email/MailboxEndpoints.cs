using Microsoft.AspNetCore.Routing;

namespace Blueprint.Notify.Email;

/// <summary>The sink's mailbox over HTTP.</summary>
internal static class MailboxEndpoints
{
    /// <summary>Maps <c>/api/notify/mailbox</c>.</summary>
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        _ = endpoints;
    }
}
