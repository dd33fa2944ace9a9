using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Blueprint.Hosting;
using Blueprint.Notify.Channels;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Blueprint.Notify.Email;

/// <summary>
/// Delivers <c>email</c> subscriptions (the message as text/plain) and <c>email-json</c> ones (SNS's JSON envelope)
/// over SMTP to <see cref="NotifyOptions.SmtpRelay"/>, or to the embedded sink when no relay is set. Each delivery
/// opens its own connection: an SMTP connection carries one transaction at a time while the pipeline delivers many
/// at once, relays drop idle connections (421), and a fresh connection keeps one delivery's failure from becoming the
/// next one's. A reply of 5xx is permanent (<see cref="DeliveryOutcome.Rejected"/>); 4xx, a refused connection, a
/// broken one and a timeout are transient (<see cref="DeliveryOutcome.Failed"/>, retried).
/// </summary>
internal sealed partial class EmailChannel(IOptions<NotifyOptions> notifyOptions, IOptions<NodeOptions> nodeOptions, ILogger<EmailChannel> logger) : IDeliveryChannel
{
    /// <summary>The <c>email</c> protocol: the message as the text of the mail.</summary>
    public const string EmailProtocol = "email";

    /// <summary>The <c>email-json</c> protocol: SNS's JSON envelope as the text of the mail.</summary>
    public const string EmailJsonProtocol = "email-json";

    /// <summary>How long connecting, and each command and reply, may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The header carrying the notification's MessageId as is (Message-Id carries it as an address).</summary>
    public const string MessageIdHeader = "X-Blueprint-Message-Id";

    /// <inheritdoc />
    public IReadOnlyList<string> Protocols { get; } = [EmailProtocol, EmailJsonProtocol];

    /// <summary>Where deliveries go as (host, port): the relay, else the embedded sink, else null (nowhere).</summary>
    public (string Host, int Port)? Relay
    {
        get
        {
            var options = notifyOptions.Value;
            if (!string.IsNullOrEmpty(options.SmtpRelay))
            {
                return NotifyOptions.ParseHostPort(options.SmtpRelay) is var (host, port) ? (host.Trim('[', ']'), port) : null;
            }

            return options.SmtpPort == 0 ? null : (nodeOptions.Value.ClientHost.Trim('[', ']'), options.SmtpPort);
        }
    }

    /// <inheritdoc />
    public string? CheckEndpoint(string protocol, string endpoint)
    {
        if (!Protocols.Contains(protocol, StringComparer.Ordinal))
        {
            return $"protocol '{protocol}' is not one of {string.Join(", ", Protocols)}";
        }

        if (Relay is null)
        {
            return $"email needs an SMTP relay: set {NotifyOptions.Section}:{nameof(NotifyOptions.SmtpRelay)} (--smtp-relay host:port) or turn the SMTP sink on ({NotifyModule.SmtpListener.Flag})";
        }

        return Recipient(endpoint) is null ? $"endpoint '{endpoint}' is not an email address such as you@example.com" : null;
    }

    /// <inheritdoc />
    public async ValueTask<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Relay is not var (host, port))
        {
            return DeliveryResult.Rejected("email needs an SMTP relay, and none is set");
        }

        if (Recipient(request.Subscription.Endpoint) is not { } recipient)
        {
            return DeliveryResult.Rejected($"endpoint '{request.Subscription.Endpoint}' is not an email address");
        }

        using var message = Compose(request, MailboxAddress.Parse(notifyOptions.Value.SmtpFrom), recipient);
        var relay = $"{host}:{port.ToString(CultureInfo.InvariantCulture)}";
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(host, port, SecureSocketOptions.StartTlsWhenAvailable, cancellationToken).ConfigureAwait(false);
            var reply = await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
            await QuitAsync(client).ConfigureAwait(false);
            return DeliveryResult.Delivered($"accepted by {relay}: {reply}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (Classify(e) is { } result)
        {
            LogNotDelivered(logger, request.Notification.MessageId, relay, result.Outcome, result.Detail);
            return result;
        }
    }

    /// <summary>The mail of one delivery: From, To, Subject, Date, a Message-Id derived from the notification's MessageId, and the text.</summary>
    internal static MimeMessage Compose(DeliveryRequest request, MailboxAddress from, MailboxAddress to)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(from);
        var notification = request.Notification;
        var text = request.Subscription.Protocol == EmailJsonProtocol
            ? Encoding.UTF8.GetString(SnsEnvelope.Notification(notification, unsubscribeUrl: null))
            : notification.Message;
        var message = new MimeMessage
        {
            Subject = notification.Subject ?? $"Notification from {TopicName(notification.TopicArn)}",
            Date = notification.Timestamp,
            MessageId = MessageIdOf(notification.MessageId, from.Domain),
            Body = new TextPart("plain") { Text = text },
        };
        message.From.Add(from);
        message.To.Add(to);
        message.Headers.Add(MessageIdHeader, notification.MessageId);
        return message;
    }

    /// <summary>
    /// The Message-Id of a notification's mails: its MessageId at the sender's domain (characters a message id cannot
    /// hold become '-'), the same on every attempt so a receiver drops a repeat.
    /// </summary>
    internal static string MessageIdOf(string messageId, string domain)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        var local = new StringBuilder(messageId.Length);
        foreach (var character in messageId)
        {
            local.Append(char.IsAsciiLetterOrDigit(character) || "!#$%&'*+-/=?^_`{|}~.".Contains(character, StringComparison.Ordinal) ? character : '-');
        }

        return $"{local}@{(string.IsNullOrEmpty(domain) ? "blueprint.local" : domain)}";
    }

    /// <summary>A topic's name: the last part of its ARN.</summary>
    internal static string TopicName(string topicArn)
    {
        ArgumentNullException.ThrowIfNull(topicArn);
        return topicArn[(topicArn.LastIndexOf(':') + 1)..];
    }

    /// <summary>The address an endpoint names, or null when it names none (it needs a local part, an @ and a domain).</summary>
    internal static MailboxAddress? Recipient(string endpoint) =>
        MailboxAddress.TryParse(endpoint, out var address) && address.Address.IndexOf('@', StringComparison.Ordinal) is > 0 and var at && at < address.Address.Length - 1
            ? address
            : null;

    /// <summary>What a failed attempt's exception means: permanent (5xx, a relay wanting what this sender lacks) or transient (the rest).</summary>
    internal static DeliveryResult? Classify(Exception exception) => exception switch
    {
        SmtpCommandException { StatusCode: var code } command when (int)code >= 500 =>
            DeliveryResult.Rejected($"the relay refused it: {((int)code).ToString(CultureInfo.InvariantCulture)} {command.Message}"),
        SmtpCommandException { StatusCode: var code } command =>
            DeliveryResult.Failed($"the relay deferred it: {((int)code).ToString(CultureInfo.InvariantCulture)} {command.Message}"),
        ServiceNotAuthenticatedException => DeliveryResult.Rejected("the relay requires authentication"),
        NotSupportedException unsupported => DeliveryResult.Rejected($"the relay cannot take it: {unsupported.Message}"),
        SocketException socket => DeliveryResult.Failed($"cannot reach the relay: {socket.Message}"),
        OperationCanceledException or TimeoutException => DeliveryResult.Failed($"the relay did not answer within {Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"),
        SslHandshakeException or SmtpProtocolException or ServiceNotConnectedException or IOException =>
            DeliveryResult.Failed($"the connection to the relay failed: {exception.Message}"),
        _ => null,
    };

    /// <summary>Says QUIT; the message is already accepted, so a failure here changes nothing.</summary>
    private static async Task QuitAsync(SmtpClient client)
    {
        try
        {
            using var quit = new CancellationTokenSource(Timeout);
            await client.DisconnectAsync(quit: true, quit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or SmtpProtocolException or SmtpCommandException)
        {
            // The relay said 250 to the message; how the connection ends is its own business.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Email for notification {MessageId} via {Relay} not delivered ({Outcome}): {Detail}")]
    private static partial void LogNotDelivered(ILogger logger, string messageId, string relay, DeliveryOutcome outcome, string detail);
}
