using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Blueprint.Chat.Tests;

/// <summary>
/// Chat on several nodes sharing one KV (the first node's) and one SQL database: a message sent on one node reaches
/// members on the others, every member sees a room in one order, and a killed node's clients recover on another.
/// </summary>
public sealed class ClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static List<string> Ids(IEnumerable<JsonElement> frames) => [.. frames.Where(frame => frame.Type() == "message").Select(frame => frame.Str("id"))];

    /// <summary>Reads a client's frames until it has seen <paramref name="count"/> messages, and returns them.</summary>
    private static async Task<List<JsonElement>> MessagesAsync(ChatClient client, int count)
    {
        var messages = new List<JsonElement>();
        while (messages.Count < count)
        {
            var frame = await client.NextAsync();
            if (frame.Type() == "message")
            {
                messages.Add(frame);
            }
        }

        return messages;
    }

    [Fact]
    public async Task ConcurrentSendersOnThreeNodes_EveryMemberOnEveryNode_SeesOneOrder_TheHistorysOrder()
    {
        await using var a = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        await using var b = await TestNode.StartAsync(settings: ChatKit.SharingWith(a), cancellationToken: ChatKit.Token);
        await using var c = await TestNode.StartAsync(settings: ChatKit.SharingWith(a), cancellationToken: ChatKit.Token);
        TestNode[] nodes = [a, b, c];
        var keys = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // Users made on different nodes: their ids come from different node ids, so they never collide.
            keys.Add(await nodes[i].UserAsync($"user{i}"));
        }

        var room = await b.RoomAsync(keys[0], "everywhere");
        await c.JoinAsync(keys[1], room);
        await a.JoinAsync(keys[2], room);

        var readers = new List<ChatClient>();
        var senders = new List<ChatClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                readers.Add(await ChatClient.ConnectAsync(nodes[i], keys[i]));
                senders.Add(await ChatClient.ConnectAsync(nodes[(i + 1) % 3], keys[i]));
                Assert.Equal("subscribed", (await readers[i].SubscribeAsync(room))[^1].Type());
            }

            // A long poll on the third node waits for the first message, sent on another node.
            var poll = c.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/poll?since=0&wait=30", keys[2]);

            const int PerSender = 40;
            await Task.WhenAll(senders.Select((sender, i) => Task.Run(async () =>
            {
                for (var n = 0; n < PerSender; n++)
                {
                    await sender.SendAsync(new { type = "send", room, text = $"{i}:{n}" });
                }
            })));

            var seen = new List<List<JsonElement>>();
            foreach (var reader in readers)
            {
                seen.Add(await MessagesAsync(reader, 3 * PerSender));
            }

            var order = Ids(seen[0]);
            Assert.Equal(order, Ids(seen[1]));
            Assert.Equal(order, Ids(seen[2]));
            Assert.Equal(order.Count, order.Distinct().Count());
            Assert.Equal(order.Select(id => long.Parse(id, CultureInfo.InvariantCulture)).Order(), order.Select(id => long.Parse(id, CultureInfo.InvariantCulture)));
            for (var i = 0; i < 3; i++)
            {
                // Each sender's messages in the order it sent them.
                Assert.Equal(Enumerable.Range(0, PerSender).Select(n => $"{i}:{n}"), seen[0].Select(m => m.Str("text")).Where(text => text.StartsWith($"{i}:", StringComparison.Ordinal)));
            }

            // A send is acked once stored (live delivery comes first): history is read after every ack.
            foreach (var sender in senders)
            {
                for (var n = 0; n < PerSender; n++)
                {
                    Assert.Equal("ack", (await sender.NextOfAsync("ack")).Type());
                }
            }

            Assert.Equal(order, await a.HistoryAsync(keys[0], room));
            var (status, polled) = await poll;
            Assert.Equal(200, status);
            Assert.Equal(order[0], polled.GetProperty("messages")[0].Str("id"));
        }
        finally
        {
            foreach (var client in readers.Concat(senders))
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ANodeWhoseClockIsBehind_StillSendsAboveTheRoomsLastId()
    {
        await using var a = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        // An hour behind: its candidate ids are below every id the first node gives, so the bus must move them up.
        var behind = new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(1));
        await using var b = await TestNode.StartAsync(null, ChatKit.SharingWith(a), services => services.AddSingleton<TimeProvider>(behind), ChatKit.Token);
        var alice = await a.UserAsync("alice");
        var room = await a.RoomAsync(alice, "skew");

        var sent = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            sent.Add(await (i % 2 == 0 ? a : b).PostAsync(alice, room, $"m{i}"));
        }

        var ids = sent.Select(id => long.Parse(id, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(sent, await b.HistoryAsync(alice, room));
    }

    [Fact]
    public async Task KillANode_ItsClientRecoversOnAnother_EveryMessageOnce_InOrder()
    {
        await using var a = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        var alice = await a.UserAsync("alice");
        var bob = await a.UserAsync("bob");
        var room = await a.RoomAsync(alice, "survivors");
        await a.JoinAsync(bob, room);

        using var data = new TempDirectory("blueprint-chat-kill");
        var httpPort = FreePorts.Next();
        var environment = ChatKit.SharingWith(a).ToDictionary(pair => $"BLUEPRINT_{pair.Key.Replace(":", "__", StringComparison.Ordinal)}", pair => pair.Value!);
        await using var victim = NodeProcess.Start(
            ["run", "--modules", "kv,sql,chat", "--data-dir", data.Path, "--http-port", httpPort.ToString(CultureInfo.InvariantCulture)], data.Path, environment);
        await victim.WaitForLineAsync(line => line.Contains("Press Ctrl-C", StringComparison.Ordinal), Deadline);

        // Bob reads on the node about to die; alice sends on the survivor throughout.
        var received = new List<JsonElement>();
        await using (var doomed = await ChatClient.ConnectAsync(new Uri($"ws://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}/api/chat/ws"), bob))
        {
            Assert.Equal("subscribed", (await doomed.SubscribeAsync(room, since: "0"))[^1].Type());
            const int Total = 200;
            var sending = Task.Run(async () =>
            {
                for (var i = 0; i < Total; i++)
                {
                    await a.PostAsync(alice, room, $"m{i}");
                }
            }, ChatKit.Token);

            while (received.Count < 30)
            {
                var frame = await doomed.ReadAsync();
                if (frame is { } live && live.Type() == "message")
                {
                    received.Add(live);
                }
            }

            victim.Kill();
            await victim.WaitForExitAsync(Deadline);

            // Whatever was already on the wire before the kill is still read; then the socket ends.
            try
            {
                while (await doomed.ReadAsync() is { } frame)
                {
                    if (frame.Type() == "message")
                    {
                        received.Add(frame);
                    }
                }
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                // Killed mid-stream: the connection resets.
            }

            await sending;
        }

        // Bob reconnects to the survivor with the last id he saw, and gets the rest once each.
        await using var survivor = await ChatClient.ConnectAsync(a, bob);
        var replay = await survivor.SubscribeAsync(room, since: received[^1].Str("id"));
        received.AddRange(replay.Where(frame => frame.Type() == "message"));
        var history = await a.HistoryAsync(alice, room);
        Assert.Equal(200, history.Count);
        Assert.Equal(history, Ids(received));
    }
}
