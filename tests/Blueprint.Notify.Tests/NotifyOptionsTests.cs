using Blueprint.Hosting;

namespace Blueprint.Notify.Tests;

public sealed class NotifyOptionsTests
{
    [Theory]
    [InlineData("1s,5s,30s", 3)]
    [InlineData("500ms, 2m ,1h", 3)]
    [InlineData("", 0)]
    public void RetryDelays_Parse(string text, int count) => Assert.Equal(count, NotifyOptions.ParseDelays(text)!.Count);

    [Theory]
    [InlineData("soon")]
    [InlineData("5")]
    [InlineData("1ms")]
    [InlineData("25h")]
    [InlineData("1s,-5s")]
    public void BadRetryDelays_AreRefused(string text) => Assert.Null(NotifyOptions.ParseDelays(text));

    [Fact]
    public async Task BadSettings_StopTheNode_WithEveryReasonAtOnce()
    {
        using var data = new TempDirectory();
        var settings = TestNode.FreeListenerPorts(TestNode.RequireCatalog());
        settings["Node:DataDir"] = data.Path;
        settings["Node:HttpPort"] = "0";
        settings["Notify:RetryDelays"] = "soon";
        settings["Notify:SmtpRelay"] = "mail.example.com";
        settings["Notify:MqttUsers"] = "alice";
        await using var node = BlueprintNode.Create(TestNode.RequireCatalog(), settings);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => node.StartAsync(TestContext.Current.CancellationToken));
        var lines = StartupFailure.Describe(error, node.Catalog);

        Assert.NotNull(lines);
        Assert.Contains(lines, line => line.StartsWith("Notify:RetryDelays = 'soon'", StringComparison.Ordinal) && line.EndsWith("(flag --notify-retry-delays)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:SmtpRelay = 'mail.example.com': must be host:port", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:MqttUsers = 'alice'", StringComparison.Ordinal));
    }
}
