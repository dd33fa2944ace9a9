using System.Text.Json;

namespace Blueprint.Chat.Tests;

/// <summary>Sending and receiving over the WebSocket: per-room order, recovery by offset, history pages, edits, deletes, receipts, direct conversations.</summary>
public sealed class MessagingTests
{
    private static async Task<(TestNode Node, string Alice, string Bob, string Room)> RoomOfTwoAsync(Dictionary<string, string?>? settings = null)
    {
        var node = await TestNode.StartAsync(settings: settings, cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        var bob = await node.UserAsync("bob");
        var room = await node.RoomAsync(alice, "general");
        await node.JoinAsync(bob, room);
        return (node, alice, bob, room);
    }

    private static List<string> Ids(IEnumerable<JsonElement> frames) => [.. frames.Where(frame => frame.Type() == "message").Select(frame => frame.Str("id"))];

    [Fact]
    public async Task TwoClients_ReceiveARoom_InOneOrder_WithTheAckedIds()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync();
        await using var _ = node;
        await using var a = await ChatClient.ConnectAsync(node, alice);
        await using var b = await ChatClient.ConnectAsync(node, bob);
        await a.SubscribeAsync(room);
        await b.SubscribeAsync(room);

        for (var i = 0; i < 20; i++)
        {
            await a.SendAsync(new { type = "send", room, text = $"a{i}" });
        }

        await b.SendAsync(new { type = "send", room, text = "from bob" });

        var acks = new List<string>();
        var seenByAlice = new List<JsonElement>();
        while (acks.Count < 20 || seenByAlice.Count < 21)
        {
            var frame = await a.NextAsync();
            if (frame.Type() == "ack")
            {
                acks.Add(frame.Str("id"));
            }
            else
            {
                seenByAlice.Add(frame);
            }
        }

        var seenByBob = new List<JsonElement>();
        while (seenByBob.Count < 21)
        {
            if ((await b.NextAsync()) is var frame && frame.Type() == "message")
            {
                seenByBob.Add(frame);
            }
        }

        Assert.Equal(Ids(seenByAlice), Ids(seenByBob));
        var ids = Ids(seenByBob).Select(long.Parse).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => $"a{i}")], seenByBob.Where(frame => frame.Str("user") == "alice").Select(frame => frame.Str("text")));
        Assert.Equal(acks, seenByBob.Where(frame => frame.Str("user") == "alice").Select(frame => frame.Str("id")));
    }

    [Fact]
    public async Task Reconnecting_WithSince_RecoversExactlyTheMissedIds_ThenLive()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync();
        await using var _ = node;
        var before = new List<string> { await node.PostAsync(alice, room, "one"), await node.PostAsync(alice, room, "two") };
        string seen;
        await using (var b = await ChatClient.ConnectAsync(node, bob))
        {
            var replay = await b.SubscribeAsync(room, since: "0");
            Assert.Equal(before, Ids(replay));
            seen = replay[^1].Str("last");
        }

        var missed = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            missed.Add(await node.PostAsync(alice, room, $"missed {i}"));
        }

        await using var again = await ChatClient.ConnectAsync(node, bob);
        var recovered = await again.SubscribeAsync(room, since: seen);
        var live = await node.PostAsync(alice, room, "live");
        var next = await again.NextOfAsync("message");

        Assert.Equal(before[^1], seen);
        Assert.Equal(missed, Ids(recovered));
        Assert.Equal(missed[^1], recovered[^1].Str("last"));
        Assert.Equal(live, next.Str("id"));
    }

    [Fact]
    public async Task MoreMissedThanTheReplayHolds_IsReportedAsAGap_ThenTheNewest()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync(new() { ["Chat:ReplayMax"] = "3" });
        await using var _ = node;
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await node.PostAsync(alice, room, $"m{i}"));
        }

        await using var b = await ChatClient.ConnectAsync(node, bob);
        var frames = await b.SubscribeAsync(room, since: ids[1]);

        Assert.Equal("gap", frames[0].Type());
        Assert.Equal(ids[1], frames[0].Str("after"));
        Assert.Equal(ids[4], frames[0].Str("before"));
        Assert.Equal(ids[4..], Ids(frames));
    }

    [Fact]
    public async Task History_PagesByCursor_NewestFirst_WithoutRepeats()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync();
        await using var _ = node;
        var sent = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            sent.Add(await node.PostAsync(i % 2 == 0 ? alice : bob, room, $"m{i}"));
        }

        var read = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var (status, page) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/messages?limit=10" + (cursor is null ? "" : $"&before={cursor}"), bob);
            Assert.Equal(200, status);
            read.AddRange(page.GetProperty("messages").EnumerateArray().Select(message => message.Str("id")));
            cursor = page.GetProperty("next").GetString();
            pages++;
        }
        while (cursor is not null);

        sent.Reverse();
        Assert.Equal(sent, read);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task EditsAndDeletes_ReachSubscribers_AndLeaveATombstoneInHistory()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync();
        await using var _ = node;
        await using var a = await ChatClient.ConnectAsync(node, alice);
        await using var b = await ChatClient.ConnectAsync(node, bob);
        await b.SubscribeAsync(room);
        var id = await node.PostAsync(alice, room, "helo");
        Assert.Equal(id, (await b.NextOfAsync("message")).Str("id"));

        await a.SendAsync(new { type = "edit", room, id, text = "hello" });
        Assert.Equal("ack", (await a.NextAsync()).Type());
        var edited = await b.NextOfAsync("edited");
        await b.SendAsync(new { type = "edit", room, id, text = "not yours" });
        var refused = await b.NextOfAsync("error");
        var (_, afterEdit) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/messages", bob);

        await a.SendAsync(new { type = "delete", room, id });
        Assert.Equal("ack", (await a.NextAsync()).Type());
        var deleted = await b.NextOfAsync("deleted");
        await a.SendAsync(new { type = "edit", room, id, text = "again" });
        var gone = await a.NextAsync();
        var (_, afterDelete) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/messages", bob);

        Assert.Equal(("hello", id), (edited.Str("text"), edited.Str("id")));
        Assert.Equal("forbidden", refused.Str("code"));
        var shown = afterEdit.GetProperty("messages")[0];
        Assert.Equal("hello", shown.Str("text"));
        Assert.Equal(JsonValueKind.Number, shown.GetProperty("editedAt").ValueKind);
        Assert.Equal(id, deleted.Str("id"));
        Assert.Equal("not_found", gone.Str("code"));
        var tombstone = afterDelete.GetProperty("messages")[0];
        Assert.Equal(id, tombstone.Str("id"));
        Assert.True(tombstone.GetProperty("deleted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, tombstone.GetProperty("text").ValueKind);
    }

    [Fact]
    public async Task Receipts_MoveForwardOnly_AndReachTheRoom()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync();
        await using var _ = node;
        var first = await node.PostAsync(alice, room, "one");
        var second = await node.PostAsync(alice, room, "two");
        await using var a = await ChatClient.ConnectAsync(node, alice);
        await using var b = await ChatClient.ConnectAsync(node, bob);
        await a.SubscribeAsync(room);

        await b.SendAsync(new { type = "delivered", room, id = second });
        await b.SendAsync(new { type = "read", room, id = second });
        await b.SendAsync(new { type = "read", room, id = first });
        var acks = new[] { await b.NextAsync(), await b.NextAsync(), await b.NextAsync() };
        await b.SendAsync(new { type = "typing", room });
        var delivered = await a.NextAsync(skipTyping: false);
        var read = await a.NextAsync(skipTyping: false);
        var typing = await a.NextAsync(skipTyping: false);
        var (_, receipts) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/receipts", alice);

        Assert.All(acks, ack => Assert.Equal("ack", ack.Type()));
        Assert.Equal(("typing", "bob"), (typing.Type(), typing.Str("user")));
        Assert.Equal(("receipt", "delivered", second, "bob"), (delivered.Type(), delivered.Str("kind"), delivered.Str("id"), delivered.Str("user")));
        Assert.Equal(("receipt", "read", second), (read.Type(), read.Str("kind"), read.Str("id")));
        var ofBob = receipts.GetProperty("receipts").EnumerateArray().Single(receipt => receipt.Str("user") == "bob");
        Assert.Equal((second, second), (ofBob.Str("delivered"), ofBob.Str("read")));
    }

    [Fact]
    public async Task ADirectConversation_IsOneRoomForItsTwoUsers_AndClosedToOthers()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        var bob = await node.UserAsync("bob");
        var carol = await node.UserAsync("carol");

        var (_, fromAlice) = await node.CallAsync(HttpMethod.Post, "/api/chat/direct", alice, new { user = "bob" });
        var (_, fromBob) = await node.CallAsync(HttpMethod.Post, "/api/chat/direct", bob, new { user = "alice" });
        var room = fromAlice.Str("id");
        var (joinStatus, join) = await node.CallAsync(HttpMethod.Post, $"/api/chat/rooms/{room}/join", carol);
        var (readStatus, _) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/messages", carol);
        var (_, bobsRooms) = await node.CallAsync(HttpMethod.Get, "/api/chat/rooms", bob);

        Assert.Equal(room, fromBob.Str("id"));
        Assert.Equal(("direct", "alice, bob"), (fromAlice.Str("kind"), fromAlice.Str("name")));
        Assert.Equal(403, joinStatus);
        Assert.Equal("forbidden", join.Str("title"));
        Assert.Equal(403, readStatus);
        Assert.Equal([room], bobsRooms.GetProperty("rooms").EnumerateArray().Select(r => r.Str("id")));
    }

    [Fact]
    public async Task Presence_IsOnlineWhileConnected_InTheKv()
    {
        var (node, alice, bob, _) = await RoomOfTwoAsync();
        await using var __ = node;
        async Task<bool> OnlineAsync() => (await node.CallAsync(HttpMethod.Get, "/api/chat/users/bob/presence", alice)).Body.GetProperty("online").GetBoolean();

        var before = await OnlineAsync();
        var b = await ChatClient.ConnectAsync(node, bob);
        var during = await OnlineAsync();
        await b.DisposeAsync();

        Assert.False(before);
        Assert.True(during);
        await Eventually.TrueAsync(async () => !await OnlineAsync(), TimeSpan.FromSeconds(30), () => "bob still online after his only connection closed", ChatKit.Token);
    }

    [Fact]
    public async Task ConcurrentSends_CommittedTogether_AreEachInHistoryOnce_WhenAnswered()
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync();
        await using var _ = node;
        var sent = await Task.WhenAll(Enumerable.Range(0, 120).Select(i => node.PostAsync(i % 2 == 0 ? alice : bob, room, $"m{i}")));

        // Every answered send is stored: read at once, without waiting for anything.
        var history = await node.HistoryAsync(alice, room);

        Assert.Equal(sent.Order(StringComparer.Ordinal), history.Order(StringComparer.Ordinal));
        Assert.Equal(history.Count, history.Distinct().Count());
    }

    [Theory]
    [InlineData("1000")] // the changes still in the KV's recent buffer
    [InlineData("16")] // pushed out of it by later messages: read from SQL's change log
    public async Task Reconnecting_ReplaysEditsAndDeletesOfOlderMessages_InOffsetOrder(string recentMax)
    {
        var (node, alice, bob, room) = await RoomOfTwoAsync(new() { ["Chat:RecentMax"] = recentMax });
        await using var _ = node;
        var m1 = await node.PostAsync(alice, room, "m1");
        var m2 = await node.PostAsync(alice, room, "m2");
        var seen = await node.PostAsync(alice, room, "m3");

        // Bob was away after m3: m1 is edited, m2 deleted, and 20 more messages come.
        Assert.Equal(200, (await node.CallAsync(HttpMethod.Patch, $"/api/chat/rooms/{room}/messages/{m1}", alice, new { text = "m1, edited" })).Status);
        Assert.Equal(200, (await node.CallAsync(HttpMethod.Delete, $"/api/chat/rooms/{room}/messages/{m2}", alice)).Status);
        var later = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            later.Add(await node.PostAsync(alice, room, $"later {i}"));
        }

        await using var b = await ChatClient.ConnectAsync(node, bob);
        var replay = await b.SubscribeAsync(room, since: seen);

        Assert.Equal(["edited", "deleted", .. later.Select(_ => "message"), "subscribed"], replay.Select(frame => frame.Type()));
        Assert.Equal((m1, "m1, edited"), (replay[0].Str("id"), replay[0].Str("text")));
        Assert.Equal(m2, replay[1].Str("id"));
        Assert.Equal(later, Ids(replay));
        var offsets = replay.Take(replay.Count - 1).Select(frame => long.Parse(frame.TryGetProperty("seq", out var seq) ? seq.GetString()! : frame.Str("id"), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(offsets.Order(), offsets);
        Assert.Equal(later[^1], replay[^1].Str("last"));

        // An edit of the newest message seen comes after it, with its own offset: a resubscribe from that offset has nothing.
        Assert.Equal(200, (await node.CallAsync(HttpMethod.Patch, $"/api/chat/rooms/{room}/messages/{later[^1]}", alice, new { text = "last, edited" })).Status);
        var live = await b.NextOfAsync("edited");
        Assert.True(long.Parse(live.Str("seq"), System.Globalization.CultureInfo.InvariantCulture) > long.Parse(later[^1], System.Globalization.CultureInfo.InvariantCulture));
        await using var again = await ChatClient.ConnectAsync(node, bob);
        var fromLast = await again.SubscribeAsync(room, since: later[^1]);
        Assert.Equal(["edited", "subscribed"], fromLast.Select(frame => frame.Type()));
        Assert.Equal([], (await again.SubscribeAsync(room, since: live.Str("seq")))[..^1]);
    }
}
