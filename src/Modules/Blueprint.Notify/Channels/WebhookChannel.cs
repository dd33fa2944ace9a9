using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Blueprint.Notify.Sns;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify.Channels;

/// <summary>
/// Webhooks (SNS's http and https protocols): a POST of SNS's envelope (or the raw message) with SNS's
/// <c>x-amz-sns-*</c> headers, signed as Standard Webhooks sign: <c>webhook-id</c> (the message id, the same on every
/// retry), <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature</c> = <c>v1,</c> and base64 of
/// HMAC-SHA256 over <c>id.timestamp.body</c> with the subscription's secret. A 2xx within the timeout is delivered;
/// 410 Gone rejects and disables the subscription; a <c>Webhook-No-Retry: true</c> response header rejects this
/// delivery without retries; anything else (another status, a timeout, a refused connection) fails and is retried.
/// </summary>
public sealed class WebhookChannel(IHttpClientFactory clients, SnsUrls urls, IOptions<NotifyOptions> options, TimeProvider time) : IDeliveryChannel
{
    /// <summary>The named HTTP client webhooks are sent with.</summary>
    public const string ClientName = "notify-webhooks";

    /// <summary>The response header with which a receiver stops the retries of a delivery.</summary>
    public const string NoRetryHeader = "Webhook-No-Retry";

    /// <inheritdoc />
    public IReadOnlyList<string> Protocols { get; } = ["http", "https"];

    /// <inheritdoc />
    public string? CheckEndpoint(string protocol, string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme == protocol && !string.IsNullOrEmpty(uri.Host)
            ? null
            : $"Invalid parameter: Endpoint must be an absolute {protocol}:// URL";

    /// <inheritdoc />
    public async ValueTask<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var notification = request.Notification;
        var body = SnsEnvelope.Body(request, urls.Unsubscribe(request.Subscription.Arn));
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        using var message = new HttpRequestMessage(HttpMethod.Post, request.Subscription.Endpoint) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "UTF-8" };
        message.Headers.TryAddWithoutValidation("x-amz-sns-message-type", notification.Type);
        message.Headers.TryAddWithoutValidation("x-amz-sns-message-id", notification.MessageId);
        message.Headers.TryAddWithoutValidation("x-amz-sns-topic-arn", notification.TopicArn);
        message.Headers.TryAddWithoutValidation("x-amz-sns-subscription-arn", request.Subscription.Arn);
        if (request.Subscription.RawMessageDelivery)
        {
            message.Headers.TryAddWithoutValidation("x-amz-sns-rawdelivery", "true");
        }

        message.Headers.TryAddWithoutValidation("webhook-id", notification.MessageId);
        message.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        message.Headers.TryAddWithoutValidation("webhook-attempt", request.Attempt.ToString(CultureInfo.InvariantCulture));
        if (request.Subscription.SigningSecret is { } secret)
        {
            message.Headers.TryAddWithoutValidation("webhook-signature", Sign(secret, notification.MessageId, timestamp, body));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.WebhookTimeoutSeconds));
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return DeliveryResult.Delivered($"HTTP {status}");
            }

            if (status == 410)
            {
                return DeliveryResult.Rejected("HTTP 410 Gone: the receiver asked to end the subscription") with { DisableSubscription = true };
            }

            if (response.Headers.TryGetValues(NoRetryHeader, out var values) && values.Any(value => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase)))
            {
                return DeliveryResult.Rejected($"HTTP {status} with {NoRetryHeader}: the receiver asked for no retries");
            }

            return DeliveryResult.Failed($"HTTP {status} {response.ReasonPhrase}".TrimEnd());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryResult.Failed($"no answer within {options.Value.WebhookTimeoutSeconds} s");
        }
        catch (HttpRequestException e)
        {
            return DeliveryResult.Failed(e.Message);
        }
    }

    /// <summary>A Standard Webhooks signature: <c>v1,</c> and base64 of HMAC-SHA256 over <c>id.timestamp.body</c>, keyed by the secret after <c>whsec_</c>.</summary>
    public static string Sign(string secret, string id, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}
