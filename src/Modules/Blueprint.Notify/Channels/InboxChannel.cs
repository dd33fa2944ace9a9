using System.Text;
using System.Text.RegularExpressions;
using Blueprint.Log;
using Blueprint.Notify.Pipeline;

namespace Blueprint.Notify.Channels;

/// <summary>
/// A user's live inbox (protocol <c>inbox</c>, the endpoint naming the inbox): the delivery is appended to
/// <c>notify.inbox</c> keyed by the inbox, where WebSocket and SSE clients read it live and replay from an id.
/// </summary>
public sealed partial class InboxChannel(IEventLog log) : IDeliveryChannel
{
    /// <inheritdoc />
    public IReadOnlyList<string> Protocols { get; } = ["inbox"];

    /// <inheritdoc />
    public string? CheckEndpoint(string protocol, string endpoint) =>
        IsInboxName(endpoint) ? null : "Invalid parameter: Endpoint must be an inbox name (1 to 128 letters, digits, '.', '_', '-', '@')";

    /// <summary>Whether a name is a valid inbox name.</summary>
    public static bool IsInboxName(string name) => InboxName().IsMatch(name);

    /// <inheritdoc />
    public async ValueTask<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Notification.Type != Notification.NotificationType)
        {
            return DeliveryResult.Delivered("inboxes need no confirmation");
        }

        var key = Encoding.UTF8.GetBytes(request.Subscription.Endpoint);
        var partition = Blueprint.Core.Hashing.Murmur2.Partition(key, log.PartitionCount(PipelineTopics.Inbox));
        try
        {
            var position = await log.AppendAsync(
                PipelineTopics.Inbox,
                [new LogMessage(key, SnsEnvelope.Body(request), [new("message-id", Encoding.UTF8.GetBytes(request.Notification.MessageId))])],
                partition,
                cancellationToken).ConfigureAwait(false);
            return DeliveryResult.Delivered($"in inbox {request.Subscription.Endpoint} at {position.Partition}-{position.BaseOffset}");
        }
        catch (InvalidOperationException e)
        {
            return DeliveryResult.Failed(e.Message);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,128}$")]
    private static partial Regex InboxName();
}
