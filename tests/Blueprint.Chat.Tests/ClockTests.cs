using System.Net.WebSockets;
using Blueprint.Chat.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Chat.Tests;

/// <summary>What depends on the clock, on a fake one: history partitions by day, heartbeats and the idle timeout.</summary>
public sealed class ClockTests
{
    private static Task<TestNode> StartAsync(FakeTimeProvider clock, Dictionary<string, string?>? settings = null) =>
        TestNode.StartAsync(null, settings, services => services.AddSingleton<TimeProvider>(clock), ChatKit.Token);

    [Fact]
    public async Task HistoryAndRecovery_CrossDayPartitions_IncludingAnEmptyDay()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 22, 0, 0, TimeSpan.Zero));
        await using var node = await StartAsync(clock);
        var alice = await node.UserAsync("alice");
        var room = await node.RoomAsync(alice, "days");
        var sent = new List<string>();
        foreach (var (count, then) in new[] { (3, TimeSpan.FromHours(4)), (2, TimeSpan.FromDays(2)), (2, TimeSpan.Zero) })
        {
            for (var i = 0; i < count; i++)
            {
                sent.Add(await node.PostAsync(alice, room, $"m{sent.Count}"));
            }

            clock.Advance(then);
        }

        var pages = new List<List<string>>();
        string? cursor = null;
        do
        {
            var (_, page) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/messages?limit=3" + (cursor is null ? "" : $"&before={cursor}"), alice);
            pages.Add([.. page.GetProperty("messages").EnumerateArray().Select(message => message.Str("id"))]);
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);

        await using var client = await ChatClient.ConnectAsync(node, alice);
        var replay = await client.SubscribeAsync(room, since: sent[0]);

        Assert.Equal([3, 3, 1], pages.Select(page => page.Count));
        Assert.Equal(Enumerable.Reverse(sent), pages.SelectMany(page => page));
        Assert.Equal(sent[1..], replay.Where(frame => frame.Type() == "message").Select(frame => frame.Str("id")));
    }

    [Fact]
    public async Task TheServerPings_AndClosesAQuietConnectionWith4001()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var node = await StartAsync(clock, new() { ["Chat:HeartbeatSeconds"] = "1", ["Chat:IdleTimeoutSeconds"] = "3" });
        var alice = await node.UserAsync("alice");
        await using var client = await ChatClient.ConnectAsync(node, alice);

        // A pong means the connection's receive loop runs, so its heartbeat timer is on the clock.
        await client.SendAsync(new { type = "ping" });
        var pong = await client.NextAsync();

        // One second at a time, each tick's frame read before the next: a ping while quiet for at most 3 seconds, then the close.
        var pings = 0;
        while (true)
        {
            Assert.True(pings < 10, "the quiet connection was never closed");
            clock.Advance(TimeSpan.FromSeconds(1));
            if (await client.ReadAsync() is not { } frame)
            {
                break;
            }

            Assert.Equal("ping", frame.Type());
            pings++;
        }

        Assert.Equal("pong", pong.Type());
        Assert.Equal(3, pings);
        Assert.Equal(ChatSocket.IdleCloseCode, (int)client.Socket.CloseStatus!.Value);
        Assert.Equal(WebSocketState.CloseReceived, client.Socket.State);
    }
}
