using System.Globalization;
using Amazon.Runtime;
using Amazon.SimpleNotificationService;

namespace Blueprint.Notify.Tests.Pipeline;

/// <summary>Kill -9 between accepting and delivering: every accepted notification is delivered after the restart, with its message id.</summary>
public sealed class CrashTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryAcceptedNotification_IsDeliveredAfterAKill9_WithItsMessageId()
    {
        using var data = new TempDirectory("blueprint-notify-crash");
        await using var receiver = await WebhookReceiver.StartAsync(Token);
        var healthy = false;

        // The first request is the confirmation, answered 200: only the notifications fail until the crash.
        receiver.Answer = (path, count) => path != "/crash" || count == 1 || Volatile.Read(ref healthy) ? (200, false) : (503, false);
        var snsPort = FreePorts.Next();
        var environment = new Dictionary<string, string>
        {
            ["BLUEPRINT_Notify__SnsPort"] = snsPort.ToString(CultureInfo.InvariantCulture),
            ["BLUEPRINT_Notify__RetryDelays"] = "300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms",
        };
        string[] arguments = ["run", "--modules", "log,notify", "--data-dir", data.Path, "--http-port", FreePorts.Next().ToString(CultureInfo.InvariantCulture)];
        using var sns = new AmazonSimpleNotificationServiceClient(
            new BasicAWSCredentials("test", "test"),
            new AmazonSimpleNotificationServiceConfig { ServiceURL = $"http://127.0.0.1:{snsPort.ToString(CultureInfo.InvariantCulture)}", AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

        var published = new List<string>();
        await using (var first = NodeProcess.Start(arguments, data.Path, environment))
        {
            await first.WaitForLineAsync(line => line.Contains("Press Ctrl-C", StringComparison.Ordinal), Deadline);
            var topic = (await sns.CreateTopicAsync("crash", Token)).TopicArn;
            await Notify.SubscribeWebhookAsync(sns, topic, receiver, "/crash", null, Token);

            for (var i = 0; i < 30; i++)
            {
                published.Add((await sns.PublishAsync(topic, $"message {i}", Token)).MessageId);
            }

            // Some have been attempted (and failed) already; the rest are accepted and waiting somewhere in the pipeline.
            await Eventually.TrueAsync(() => receiver.Of("/crash").Count > 5, Deadline, () => "a few failed attempts before the crash", Token);
            first.Kill();
            await first.WaitForExitAsync(Deadline);
        }

        Volatile.Write(ref healthy, true);
        var crashedAt = DateTimeOffset.UtcNow;
        await using var second = NodeProcess.Start(arguments, data.Path, environment);
        await second.WaitForLineAsync(line => line.Contains("Press Ctrl-C", StringComparison.Ordinal), Deadline);

        await Eventually.TrueAsync(
            () => published.All(id => receiver.Of("/crash").Any(request => request.At >= crashedAt && request.Header("webhook-id") == id)),
            Deadline,
            () => $"every accepted message delivered after the restart; missing: {string.Join(", ", published.Where(id => !receiver.Of("/crash").Any(request => request.At >= crashedAt && request.Header("webhook-id") == id)))}",
            Token);
        Assert.All(
            receiver.Of("/crash").Where(request => request.Header("x-amz-sns-message-type") == "Notification"),
            request => Assert.Contains(request.Header("webhook-id"), published));
    }
}
