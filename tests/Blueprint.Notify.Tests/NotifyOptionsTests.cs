using Blueprint.Notify.Limits;

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
        var lines = await StartupLinesAsync(new()
        {
            ["Notify:RetryDelays"] = "soon",
            ["Notify:SmtpRelay"] = "mail.example.com",
            ["Notify:MqttUsers"] = "alice",
        });

        Assert.Contains(lines, line => line.StartsWith("Notify:RetryDelays = 'soon'", StringComparison.Ordinal) && line.EndsWith("(flag --notify-retry-delays)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:SmtpRelay = 'mail.example.com': must be host:port", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:MqttUsers = 'alice'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("100/1m", 100, 60)]
    [InlineData(" 5/10s ", 5, 10)]
    [InlineData("1/24h", 1, 86_400)]
    [InlineData("1000000/1s", 1_000_000, 1)]
    public void Limits_Parse(string text, long count, int seconds)
    {
        var limit = NotifyLimit.Parse(text)!;

        Assert.Equal(count, limit.Count);
        Assert.Equal(TimeSpan.FromSeconds(seconds), limit.Window);
        Assert.Equal(limit.Window / count, limit.Interval);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("100")]
    [InlineData("0/1m")]
    [InlineData("-1/1m")]
    [InlineData("1000001/1m")]
    [InlineData("10/500ms")]
    [InlineData("10/25h")]
    [InlineData("10/1m/2")]
    [InlineData("10/minute")]
    public void BadLimits_AreRefused(string text) => Assert.Null(NotifyLimit.Parse(text));

    [Fact]
    public void ChannelLimits_Parse_ByChannel_AndRefuseUnknownOrRepeatedChannels()
    {
        var limits = NotifyLimit.ParseByChannel("email=10/1m, webhook = 600/1m")!;

        Assert.Equal(["email", "webhook"], limits.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(600, limits["webhook"].Count);
        Assert.Empty(NotifyLimit.ParseByChannel("")!);
        Assert.Null(NotifyLimit.ParseByChannel("pigeon=1/1m"));
        Assert.Null(NotifyLimit.ParseByChannel("email=1/1m,email=2/1m"));
        Assert.Null(NotifyLimit.ParseByChannel("email"));
        Assert.Null(NotifyLimit.ParseByChannel("email=often"));
    }

    [Theory]
    [InlineData("http", "webhook")]
    [InlineData("https", "webhook")]
    [InlineData("email-json", "email")]
    [InlineData("sqs", "log")]
    [InlineData("inbox", "inbox")]
    [InlineData("mqtt", "mqtt")]
    public void EachProtocol_BelongsToAChannel(string protocol, string channel) => Assert.Equal(channel, NotifyLimit.ChannelOf(protocol));

    [Fact]
    public async Task BadLimits_StopTheNode_WithEveryReasonAtOnce()
    {
        var lines = await StartupLinesAsync(new()
        {
            ["Notify:UserLimit"] = "lots",
            ["Notify:ChannelLimits"] = "pigeon=1/1m",
            ["Notify:UserChannelLimits"] = "email=0/1m",
        });

        Assert.Contains(lines, line => line.StartsWith("Notify:UserLimit = 'lots': must be a limit such as 100/1m", StringComparison.Ordinal) && line.EndsWith("(flag --notify-user-limit)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:ChannelLimits = 'pigeon=1/1m': must be channel=limit pairs", StringComparison.Ordinal) && line.EndsWith("(flag --notify-channel-limits)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:UserChannelLimits = 'email=0/1m': must be channel=limit pairs", StringComparison.Ordinal) && line.EndsWith("(flag --notify-user-channel-limits)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Limits_WithoutTheRateLimitModule_OrWithoutRetryTopics_StopTheNode()
    {
        // This assembly's nodes run log and notify only: nothing would decide the limits.
        var lines = await StartupLinesAsync(new()
        {
            ["Notify:UserLimit"] = "3/1m",
            ["Notify:ChannelLimits"] = "email=10/1m",
            ["Notify:RetryDelays"] = "",
        });

        Assert.Contains(lines, line => line.StartsWith("Notify:UserLimit = '3/1m': needs the ratelimit module", StringComparison.Ordinal) && line.EndsWith("(flag --notify-user-limit)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:ChannelLimits = 'email=10/1m': needs the ratelimit module", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Notify:ChannelLimits = 'email=10/1m': needs at least one retry delay", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.StartsWith("Notify:UserChannelLimits", StringComparison.Ordinal));
    }

    private static Task<IReadOnlyList<string>> StartupLinesAsync(Dictionary<string, string?> overrides) =>
        TestNode.StartupFailureAsync(overrides, TestContext.Current.CancellationToken);
}
