using System.Net.WebSockets;
using System.Text;
using Blueprint.Chat.Live;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Chat.Tests;

/// <summary>What the protocol refuses and how: coded errors that leave the connection open, closes for oversized frames and slow consumers.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task BadFrames_GetTheProtocolsErrors_AndTheConnectionStaysUsable()
    {
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Chat:MaxMessageBytes"] = "100" }, cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        var bob = await node.UserAsync("bob");
        var room = await node.RoomAsync(alice, "private");
        await using var b = await ChatClient.ConnectAsync(node, bob);

        async Task<(string Code, string? Ref)> ErrorOfAsync(Func<Task> send)
        {
            await send();
            var frame = await b.NextAsync();
            Assert.Equal("error", frame.Type());
            return (frame.Str("code"), frame.TryGetProperty("ref", out var r) ? r.GetString() : null);
        }

        var malformed = await ErrorOfAsync(() => b.SendRawAsync(Encoding.UTF8.GetBytes("{not json")));
        var untyped = await ErrorOfAsync(() => b.SendRawAsync(Encoding.UTF8.GetBytes("""{"room":"1"}""")));
        var unknownType = await ErrorOfAsync(() => b.SendAsync(new { type = "shout", room }));
        var badId = await ErrorOfAsync(() => b.SendAsync(new { type = "send", room = "general", text = "x" }));
        var unknownRoom = await ErrorOfAsync(() => b.SendAsync(new { type = "subscribe", room = "12345" }));
        var notMember = await ErrorOfAsync(() => b.SendAsync(new { type = "send", room, text = "let me in" }));
        await node.JoinAsync(bob, room);
        var tooLarge = await ErrorOfAsync(() => b.SendAsync(new { type = "send", room, text = new string('x', 101) }));
        var reference = await b.SendAsync(new { type = "send", room, text = "fits" });
        var ack = await b.NextAsync();

        Assert.Equal(("bad_frame", (string?)null), malformed);
        Assert.Equal("bad_frame", untyped.Code);
        Assert.Equal(("unknown_type", "r1"), unknownType);
        Assert.Equal("bad_frame", badId.Code);
        Assert.Equal("unknown_room", unknownRoom.Code);
        Assert.Equal("not_member", notMember.Code);
        Assert.Equal("too_large", tooLarge.Code);
        Assert.Equal(("ack", reference), (ack.Type(), ack.Str("ref")));
    }

    [Fact]
    public async Task WithoutAKey_OnlyAuthIsAccepted()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        var room = await node.RoomAsync(alice, "general");
        await using var client = await ChatClient.ConnectAsync(node, key: null);

        await client.SendAsync(new { type = "subscribe", room });
        var early = await client.NextAsync();
        await client.SendAsync(new { type = "auth", token = "bpc_wrong" });
        var wrong = await client.NextAsync();
        await client.SendAsync(new { type = "auth", token = alice });
        var ready = await client.NextAsync();
        var subscribed = await client.SubscribeAsync(room);

        Assert.Equal("unauthorized", early.Str("code"));
        Assert.Equal("unauthorized", wrong.Str("code"));
        Assert.Equal(("ready", "alice"), (ready.Type(), ready.Str("user")));
        Assert.Equal("subscribed", subscribed[^1].Type());
    }

    [Fact]
    public async Task AFrameOverTheLimit_ClosesWith1009()
    {
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Chat:MaxMessageBytes"] = "100", ["Chat:MaxFrameBytes"] = "1024" }, cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        await using var client = await ChatClient.ConnectAsync(node, alice);

        await client.SendRawAsync(Encoding.UTF8.GetBytes($$"""{"type":"ping","pad":"{{new string('x', 2000)}}"}"""));
        var closed = await client.ReadAsync();

        Assert.Null(closed);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task ASlowConsumer_IsCutOffWith4008_WhileTheOthersGetEverything()
    {
        await using var node = await TestNode.StartAsync(
            settings: new Dictionary<string, string?> { ["Chat:SendQueueLimit"] = "4", ["Chat:MaxMessageBytes"] = "60000", ["Chat:MaxFrameBytes"] = "1048576" },
            cancellationToken: ChatKit.Token);
        var hub = node.Node.Services.GetRequiredService<ChatHub>();
        var alice = await node.UserAsync("alice");
        var room = await node.RoomAsync(alice, "firehose");
        var keys = new Dictionary<string, string> { ["bob"] = await node.UserAsync("bob"), ["carol"] = await node.UserAsync("carol") };
        foreach (var key in keys.Values)
        {
            await node.JoinAsync(key, room);
        }

        await using var a = await ChatClient.ConnectAsync(node, alice);
        await using var slow = await ChatClient.ConnectAsync(node, keys["bob"]);
        await using var fast = await ChatClient.ConnectAsync(node, keys["carol"]);
        await slow.SubscribeAsync(room);
        await fast.SubscribeAsync(room);

        // Carol reads everything as it comes; Bob reads nothing until he has been cut off.
        var carolSaw = new List<string>();
        using var stop = new CancellationTokenSource();
        var carol = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                carolSaw.Add((await fast.NextOfAsync("message")).Str("id"));
            }
        }, ChatKit.Token);

        // Sends until the socket buffers between the node and Bob are full and his queue overflows: how many that takes
        // depends on the kernel, that it happens does not.
        var sent = new List<string>();
        var text = new string('x', 60_000);
        while (hub.SlowConsumersCut == 0)
        {
            Assert.True(sent.Count < 5_000, "Bob was never cut off");
            await a.SendAsync(new { type = "send", room, text });
            sent.Add((await a.NextOfAsync("ack")).Str("id"));
        }

        var last = await node.PostAsync(alice, room, "after the cut");
        sent.Add(last);
        await Eventually.TrueAsync(() => carolSaw.Count == sent.Count, TimeSpan.FromSeconds(60), () => $"Carol saw {carolSaw.Count} of {sent.Count}", ChatKit.Token);
        await stop.CancelAsync();

        var bobSaw = new List<string>();
        while (await slow.ReadAsync() is { } frame)
        {
            if (frame.Type() == "message")
            {
                bobSaw.Add(frame.Str("id"));
            }
        }

        Assert.Equal(1, hub.SlowConsumersCut);
        Assert.Equal(sent, carolSaw);
        Assert.Equal(ChatConnection.SlowConsumerCloseCode, (int)slow.Socket.CloseStatus!.Value);
        Assert.Equal(sent[..bobSaw.Count], bobSaw);
        Assert.DoesNotContain(last, bobSaw);
    }
}
