using Blueprint.Core.Identifiers;

namespace Blueprint.Chat.Tests;

public sealed class ChatOptionsTests
{
    [Fact]
    public async Task BadSettings_StopTheNode_WithEveryReasonAtOnce()
    {
        var related = await StartupLinesAsync(new() { ["Chat:HeartbeatSeconds"] = "30", ["Chat:IdleTimeoutSeconds"] = "20", ["Chat:MaxMessageBytes"] = "65536" });
        var ranged = await StartupLinesAsync(new() { ["Chat:SendQueueLimit"] = "0", ["Chat:NodeId"] = "1024" });
        var secret = await StartupLinesAsync(new() { ["Chat:JwtSecret"] = Convert.ToBase64String(new byte[16]) });

        Assert.Contains(related, line => line.StartsWith("Chat:IdleTimeoutSeconds = '20': must be longer than HeartbeatSeconds", StringComparison.Ordinal));
        Assert.Contains(related, line => line.StartsWith("Chat:MaxFrameBytes = '65536': must leave room", StringComparison.Ordinal));
        Assert.Contains(ranged, line => line.StartsWith("Chat:SendQueueLimit = '0': must be from 1", StringComparison.Ordinal));
        Assert.Contains(ranged, line => line.StartsWith("Chat:NodeId = '1024': must be -1 (from the KV) or from 0 to 1023", StringComparison.Ordinal));
        Assert.Contains(secret, line => line.StartsWith("Chat:JwtSecret = '", StringComparison.Ordinal) && line.Contains("at least 32 bytes", StringComparison.Ordinal));
    }

    private static Task<IReadOnlyList<string>> StartupLinesAsync(Dictionary<string, string?> overrides) => TestNode.StartupFailureAsync(overrides, ChatKit.Token);

    [Fact]
    public async Task TheNode_ListsTheChat_OnItsDashboard_AndInItsOpenApiDocument()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);

        var home = await node.Http.GetStringAsync(new Uri("/api/node", UriKind.Relative), ChatKit.Token);
        var openApi = await node.Http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), ChatKit.Token);

        Assert.Contains("/api/chat/ws", home, StringComparison.Ordinal);
        Assert.Contains("\"page\":\"/chat\"", home, StringComparison.Ordinal);
        Assert.Contains("/api/chat/rooms/{room}/messages", openApi, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeOrderedIds_Increase_WithinAMillisecond_AndWhenTheClockStepsBack()
    {
        var ids = new TimeOrderedIds(7);
        var at = TimeOrderedIds.Epoch + 1_000_000;
        var made = new List<long>();
        for (var i = 0; i < 5000; i++)
        {
            made.Add(ids.Next(at));
        }

        made.Add(ids.Next(at - 10_000));
        made.Add(ids.Next(at + 5));

        Assert.Equal(made.Order(), made);
        Assert.Equal(made.Count, made.Distinct().Count());
        Assert.Equal(at, TimeOrderedIds.UnixMillisecondsOf(made[0]));
        Assert.Equal(at + 5, TimeOrderedIds.UnixMillisecondsOf(made[^1]));
        Assert.True(TimeOrderedIds.FirstAt(at) <= made[0] && made[0] < TimeOrderedIds.FirstAt(at + 1));
    }
}
