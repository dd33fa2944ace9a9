using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Blueprint.Notify.Channels;

/// <summary>
/// SNS's JSON envelope of a notification (what an http/https, email-json or non-raw subscriber receives): <c>Type</c>,
/// <c>MessageId</c>, <c>TopicArn</c>, <c>Subject</c>, <c>Message</c>, <c>Timestamp</c>, <c>MessageAttributes</c>,
/// and for the receiver to call back, <c>UnsubscribeURL</c>.
/// </summary>
public static class SnsEnvelope
{
    /// <summary>The envelope of a notification as UTF-8 JSON.</summary>
    /// <param name="notification">The notification.</param>
    /// <param name="unsubscribeUrl">The URL that unsubscribes the receiver, or null.</param>
    public static byte[] Notification(Notification notification, string? unsubscribeUrl)
    {
        ArgumentNullException.ThrowIfNull(notification);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Type", notification.Type);
            json.WriteString("MessageId", notification.MessageId);
            if (notification.Token is { } token)
            {
                json.WriteString("Token", token);
            }

            json.WriteString("TopicArn", notification.TopicArn);
            if (notification.Subject is { } subject)
            {
                json.WriteString("Subject", subject);
            }

            json.WriteString("Message", notification.Message);
            json.WriteString("Timestamp", Timestamp(notification.Timestamp));
            json.WriteString("SignatureVersion", "1");
            if (notification.SubscribeUrl is { } subscribeUrl)
            {
                json.WriteString("SubscribeURL", subscribeUrl);
            }

            if (unsubscribeUrl is not null)
            {
                json.WriteString("UnsubscribeURL", unsubscribeUrl);
            }

            if (notification.Attributes.Count > 0)
            {
                json.WriteStartObject("MessageAttributes");
                foreach (var (name, value) in notification.Attributes)
                {
                    json.WriteStartObject(name);
                    json.WriteString("Type", value.DataType);
                    json.WriteString("Value", value.BinaryValue is { } binary ? Convert.ToBase64String(binary) : value.StringValue);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The body a subscription receives: the message alone when raw, else the envelope.</summary>
    public static byte[] Body(DeliveryRequest request, string? unsubscribeUrl = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Subscription.RawMessageDelivery && request.Notification.Type == Channels.Notification.NotificationType
            ? Encoding.UTF8.GetBytes(request.Notification.Message)
            : Notification(request.Notification, unsubscribeUrl);
    }

    /// <summary>SNS's timestamp format: ISO 8601 in UTC with milliseconds.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
