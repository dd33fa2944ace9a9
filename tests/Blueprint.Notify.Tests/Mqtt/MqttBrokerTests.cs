using Blueprint.Notify.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Tests.Mqtt;

/// <summary>The embedded broker against Debian's MQTT clients: the protocol's features a general broker must have.</summary>
public sealed class MqttBrokerTests
{
    private const string MqttPortKey = "Notify:MqttPort";

    [Theory]
    [InlineData("mqttv311", 1, "PUBACK")]
    [InlineData("mqttv311", 2, "PUBREC,PUBCOMP")]
    [InlineData("mqttv5", 1, "PUBACK")]
    [InlineData("mqttv5", 2, "PUBREC,PUBCOMP")]
    public async Task Publish_RoundTrip(string version, int qos, string acknowledgements)
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);
        var level = qos.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var subscriber = await Mosquitto.SubscribeAsync(port, "-V", version, "-q", level, "-t", "sensors/+/temperature", "-v", "-C", "1");

        var (exitCode, output) = await Mosquitto.PublishAsync(port, "-V", version, "-q", level, "-t", "sensors/kitchen/temperature", "-m", $"21.5 at QoS {qos}");

        Assert.True(exitCode == 0, output);
        foreach (var acknowledgement in acknowledgements.Split(','))
        {
            Assert.Contains($"received {acknowledgement}", output, StringComparison.Ordinal);
        }

        await subscriber.WaitForMessageAsync("sensors/kitchen/temperature", $"21.5 at QoS {qos}");
        Assert.Contains($"received PUBLISH (d0, q{qos}, r0", subscriber.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetainedMessage_ReachesALaterSubscriber()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);

        var (exitCode, output) = await Mosquitto.PublishAsync(port, "-q", "1", "-r", "-t", "devices/door/state", "-m", "open");
        Assert.True(exitCode == 0, output);

        await using var subscriber = Mosquitto.StartSubscriber(port, "-q", "1", "-t", "devices/#", "-v", "-C", "1");
        await subscriber.WaitForMessageAsync("devices/door/state", "open");
        Assert.Contains("r1, m", subscriber.StandardOutput + subscriber.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetainedMessages_SurviveANodeRestart()
    {
        using var dataDir = new TempDirectory("blueprint-mqtt");
        await using (var first = await TestNode.StartAsync(dataDir.Path, cancellationToken: TestContext.Current.CancellationToken))
        {
            var port = first.PortOf(MqttPortKey);
            foreach (var (topic, payload) in new[] { ("plant/line-1/status", "running"), ("plant/line-2/status", "stopped"), ("plant/line-3/status", "gone") })
            {
                var (exitCode, output) = await Mosquitto.PublishAsync(port, "-V", "mqttv5", "-q", "1", "-r", "-t", topic, "-m", payload, "-D", "publish", "user-property", "shift", "night");
                Assert.True(exitCode == 0, output);
            }

            // An empty retained payload clears the topic's retained message.
            var cleared = await Mosquitto.PublishAsync(port, "-q", "1", "-r", "-t", "plant/line-3/status", "-n");
            Assert.True(cleared.ExitCode == 0, cleared.Output);
        }

        Assert.True(File.Exists(Path.Combine(dataDir.Path, NotifyModule.ModuleName, MqttBroker.RetainedFile)), "the retained file is written by the stop");
        await using var second = await TestNode.StartAsync(dataDir.Path, cancellationToken: TestContext.Current.CancellationToken);
        await using var subscriber = Mosquitto.StartSubscriber(second.PortOf(MqttPortKey), "-V", "mqttv5", "-q", "1", "-t", "plant/#", "-F", "%t %p %P", "-C", "2");

        Assert.Equal(0, await subscriber.WaitForExitAsync(Mosquitto.Deadline));
        var messages = subscriber.StandardOutput.Split('\n').Where(line => line.StartsWith("plant/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["plant/line-1/status running shift:night", "plant/line-2/status stopped shift:night"], messages);
    }

    [Fact]
    public async Task Users_WrongPasswordIsRefused_RightOneAccepted()
    {
        var settings = new Dictionary<string, string?> { ["Notify:MqttUsers"] = "alice:s3cret, bob:hunter2" };
        await using var node = await TestNode.StartAsync(settings: settings, cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);

        var wrong = await Mosquitto.PublishAsync(port, "-u", "alice", "-P", "hunter2", "-t", "x", "-m", "no");
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("bad user name or password", wrong.Output, StringComparison.OrdinalIgnoreCase);
        var anonymous = await Mosquitto.PublishAsync(port, "-V", "mqttv5", "-t", "x", "-m", "no");
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("bad user name or password", anonymous.Output, StringComparison.OrdinalIgnoreCase);

        await using var subscriber = await Mosquitto.SubscribeAsync(port, "-u", "bob", "-P", "hunter2", "-t", "x", "-v", "-C", "1");
        var right = await Mosquitto.PublishAsync(port, "-u", "alice", "-P", "s3cret", "-q", "1", "-t", "x", "-m", "yes");
        Assert.True(right.ExitCode == 0, right.Output);
        await subscriber.WaitForMessageAsync("x", "yes");
    }

    [Fact]
    public async Task WillMessage_IsPublished_WhenAClientDisappears()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);
        await using var watcher = await Mosquitto.SubscribeAsync(port, "-q", "1", "-t", "clients/+/status", "-v", "-C", "1");
        await using var dying = await Mosquitto.SubscribeAsync(
            port, "-i", "dying", "-t", "anything", "--will-topic", "clients/dying/status", "--will-payload", "offline", "--will-qos", "1");

        dying.Kill();

        await watcher.WaitForMessageAsync("clients/dying/status", "offline");
    }

    [Fact]
    public async Task WillMessage_IsNotPublished_OnACleanDisconnect()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);
        await using var watcher = await Mosquitto.SubscribeAsync(port, "-q", "1", "-t", "clients/+/status", "-v", "-C", "1");
        var polite = await Mosquitto.PublishAsync(
            port, "-i", "polite", "-t", "anything", "-m", "bye", "--will-topic", "clients/polite/status", "--will-payload", "offline");
        Assert.True(polite.ExitCode == 0, polite.Output);

        // A marker published after the clean disconnect: the watcher's first (and only) message must be it.
        var marker = await Mosquitto.PublishAsync(port, "-q", "1", "-t", "clients/marker/status", "-m", "marker");
        Assert.True(marker.ExitCode == 0, marker.Output);
        await watcher.WaitForMessageAsync("clients/marker/status", "marker");
        Assert.DoesNotContain("clients/polite/status", watcher.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PersistentSession_ReceivesQos1MessagesPublishedWhileAway()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);
        var broker = node.Node.Services.GetRequiredService<MqttBroker>();

        // Subscribe with a persistent session (clean session off), then disconnect cleanly.
        await using (var first = Mosquitto.StartSubscriber(port, "-c", "-i", "keeper", "-q", "1", "-t", "jobs/#", "-E"))
        {
            Assert.Equal(0, await first.WaitForExitAsync(Mosquitto.Deadline));
        }

        await Eventually.TrueAsync(
            async () => (await broker.Server.GetClientsAsync()).All(client => client.Id != "keeper"),
            Mosquitto.Deadline,
            () => "the broker still lists client keeper as connected",
            TestContext.Current.CancellationToken);
        Assert.Contains(await broker.Server.GetSessionsAsync(), session => session.Id == "keeper");

        foreach (var payload in new[] { "job-1", "job-2" })
        {
            var (exitCode, output) = await Mosquitto.PublishAsync(port, "-q", "1", "-t", "jobs/build", "-m", payload);
            Assert.True(exitCode == 0, output);
        }

        await using var back = Mosquitto.StartSubscriber(port, "-c", "-i", "keeper", "-q", "1", "-t", "jobs/#", "-v", "-C", "2");
        Assert.Equal(0, await back.WaitForExitAsync(Mosquitto.Deadline));
        var received = back.StandardOutput.Split('\n').Where(line => line.StartsWith("jobs/", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["jobs/build job-1", "jobs/build job-2"], received);
    }

    [Fact]
    public async Task Publish_OverThePayloadLimit_ClosesTheConnection()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = node.PortOf(MqttPortKey);
        using var directory = new TempDirectory("blueprint-mqtt-payload");
        var atLimit = Path.Combine(directory.Path, "at-limit");
        var overLimit = Path.Combine(directory.Path, "over-limit");
        await File.WriteAllBytesAsync(atLimit, new byte[MqttBroker.MaxPayloadBytes], TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(overLimit, new byte[MqttBroker.MaxPayloadBytes + 1], TestContext.Current.CancellationToken);

        var accepted = await Mosquitto.PublishAsync(port, "-q", "1", "-t", "big", "-f", atLimit);
        Assert.True(accepted.ExitCode == 0, accepted.Output);
        Assert.Contains("received PUBACK", accepted.Output, StringComparison.Ordinal);

        var refused = await Mosquitto.PublishAsync(port, "-q", "1", "-t", "big", "-f", overLimit);
        Assert.DoesNotContain("received PUBACK", refused.Output, StringComparison.Ordinal);
    }
}
