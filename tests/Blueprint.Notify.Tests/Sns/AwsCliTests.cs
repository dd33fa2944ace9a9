using System.Text.Json;
using Blueprint.Log;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Tests.Sns;

/// <summary>The AWS command line (Debian's awscli) against the SNS port with <c>--endpoint-url</c>.</summary>
public sealed class AwsCliTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> AwsAsync(string aws, TestNode node, params string[] arguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_PAGER"] = "",
            ["AWS_CONFIG_FILE"] = "/dev/null",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
        };
        await using var process = ProcessRunner.Start(aws, ["sns", .. arguments, "--endpoint-url", node.SnsUrl(), "--output", "json"], environment: environment);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"aws sns {string.Join(' ', arguments)} exited {exit}: {process.StandardError}");
        var output = process.StandardOutput.Trim();
        return output.Length == 0 ? default : JsonDocument.Parse(output).RootElement.Clone();
    }

    [Fact]
    public async Task CreateTopic_Subscribe_Publish_WithAFilterPolicy_RouteOnlyMatchingMessages()
    {
        var aws = Peers.Require("aws", "awscli");
        await using var node = await TestNode.StartAsync(cancellationToken: Token);

        var topic = (await AwsAsync(aws, node, "create-topic", "--name", "cli-topic")).GetProperty("TopicArn").GetString()!;
        Assert.Equal("arn:aws:sns:us-east-1:000000000000:cli-topic", topic);
        var subscription = (await AwsAsync(
            aws, node, "subscribe", "--topic-arn", topic, "--protocol", "log", "--notification-endpoint", "cli-urgent",
            "--attributes", """{"FilterPolicy":"{\"severity\":[\"urgent\"]}","RawMessageDelivery":"true"}""")).GetProperty("SubscriptionArn").GetString()!;
        Assert.StartsWith(topic + ":", subscription, StringComparison.Ordinal);

        await AwsAsync(aws, node, "publish", "--topic-arn", topic, "--message", "routine", "--message-attributes", """{"severity":{"DataType":"String","StringValue":"low"}}""");
        var urgent = (await AwsAsync(aws, node, "publish", "--topic-arn", topic, "--message", "wake up", "--message-attributes", """{"severity":{"DataType":"String","StringValue":"urgent"}}"""))
            .GetProperty("MessageId").GetString();
        Assert.False(string.IsNullOrEmpty(urgent));

        var topics = await AwsAsync(aws, node, "list-topics");
        Assert.Equal([topic], topics.GetProperty("Topics").EnumerateArray().Select(item => item.GetProperty("TopicArn").GetString()));
        var subscriptions = await AwsAsync(aws, node, "list-subscriptions-by-topic", "--topic-arn", topic);
        var listed = Assert.Single(subscriptions.GetProperty("Subscriptions").EnumerateArray());
        Assert.Equal("log", listed.GetProperty("Protocol").GetString());

        var delivered = await SdkTests.ReadAllAsync(node.Node.Services.GetRequiredService<IEventLog>(), "cli-urgent", 1);
        Assert.Equal(["wake up"], delivered);

        var error = await Assert.ThrowsAsync<Xunit.Sdk.TrueException>(() => AwsAsync(aws, node, "publish", "--topic-arn", topic + "-missing", "--message", "x"));
        Assert.Contains("NotFound", error.Message, StringComparison.Ordinal);
    }
}
