using System.Globalization;
using System.Text.Json;
using Blueprint.Chat.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Blueprint.Chat.Browser.Tests.Web;

/// <summary>The browser client at <c>/chat</c>, driven in a real chromium against an in-process node.</summary>
public sealed class ChatPageTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TwoTabs_ChatInARoom_SeeMessagesInOrderTypingAndReceipts()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        await using var browser = await ChatBrowser.LaunchAsync();
        var alice = await browser.OpenAsync(node, "alice");
        var bob = await browser.OpenAsync(node, "bob");
        await alice.SignUpAsync("alice");
        await bob.SignUpAsync("bob");

        var room = await alice.CreateRoomAsync("general");
        await bob.JoinAsync(room);
        await alice.SendAsync("hello bob");
        await Expect(bob.Texts).ToHaveTextAsync(["hello bob"]);
        await bob.Page.Locator("#message-input").FillAsync("hi al");
        await Expect(alice.Typing).ToHaveTextAsync("bob is typing…");
        await bob.SendAsync("hi alice");
        await alice.SendAsync("how are you?");
        await bob.SendAsync("fine, thanks");
        string[] conversation = ["hello bob", "hi alice", "how are you?", "fine, thanks"];
        await Expect(alice.Texts).ToHaveTextAsync(conversation);
        await Expect(bob.Texts).ToHaveTextAsync(conversation);
        // Each tab reads what it shows: the other sees "read by" on the newest message.
        await Expect(alice.Message("fine, thanks").Locator(".read-by")).ToHaveTextAsync("read by bob");
        await Expect(bob.Message("fine, thanks").Locator(".read-by")).ToHaveTextAsync("read by alice");
        await Expect(alice.Typing).ToBeEmptyAsync();

        await alice.Message("how are you?").Locator(".edit-button").ClickAsync();
        await alice.Page.Locator("#messages .edit-input").FillAsync("how are you, bob?");
        await alice.Page.Locator("#messages .save-button").ClickAsync();
        await alice.Message("hello bob").Locator(".delete-button").ClickAsync();
        await Expect(bob.Texts).ToHaveTextAsync(["message deleted", "hi alice", "how are you, bob?", "fine, thanks"]);
        await Expect(bob.Message("how are you, bob?").Locator(".edited")).ToBeVisibleAsync();
        await Expect(bob.Message("hi alice").Locator(".edit-button")).ToBeVisibleAsync();
        await Expect(alice.Message("hi alice").Locator(".edit-button")).ToHaveCountAsync(0);

        Assert.Equal(await alice.IdsAsync(), await bob.IdsAsync());
        await alice.ScreenshotAsync("conversation");
        await bob.ScreenshotAsync("conversation");
        await alice.AssertNoErrorsAsync();
        await bob.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task DirectConversation_OpenedByName_ReachesTheOtherTabAndShowsPresence()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        await using var browser = await ChatBrowser.LaunchAsync();
        var alice = await browser.OpenAsync(node, "alice");
        var bob = await browser.OpenAsync(node, "bob");
        await alice.SignUpAsync("alice");
        await bob.SignUpAsync("bob");

        var room = await alice.OpenDirectAsync("bob");
        await Expect(alice.Presence).ToHaveTextAsync("bob is online");
        await alice.SendAsync("psst");
        // Bob's room list is read again every few seconds: the conversation Alice opened appears there.
        await bob.OpenRoomAsync(room);
        await Expect(bob.Page.Locator("#room-title")).ToHaveTextAsync("@ alice");
        await Expect(bob.Texts).ToHaveTextAsync(["psst"]);
        await Expect(bob.Presence).ToHaveTextAsync("alice is online");
        await bob.SendAsync("yes?");
        await Expect(alice.Texts).ToHaveTextAsync(["psst", "yes?"]);
        await bob.AssertNoErrorsAsync();
        await bob.Page.Context.CloseAsync();

        // Presence is polled: Bob's last connection closed, so Alice's page shows him offline by the next poll.
        await Expect(alice.Presence).ToHaveTextAsync("bob is offline", new LocatorAssertionsToHaveTextOptions { Timeout = 45_000 });
        await alice.ScreenshotAsync("direct");
        await alice.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task History_150Messages_ShowsTheNewestAndLoadsOlderPagesWhenScrolledUp()
    {
        const int count = 150;
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        await using var browser = await ChatBrowser.LaunchAsync();
        var key = await node.UserAsync("alice");
        var room = await node.RoomAsync(key, "archive");
        var texts = Enumerable.Range(1, count).Select(index => $"message {index}").ToArray();
        foreach (var text in texts)
        {
            await node.PostAsync(key, room, text);
        }

        var tab = await browser.OpenAsync(node, "alice");
        await tab.SignInAsync(key, "alice");
        await tab.OpenRoomAsync(room);
        await Expect(tab.Messages.Last).ToContainTextAsync("message 150");
        var first = await tab.Messages.CountAsync();
        await tab.ScreenshotAsync("newest");
        // Each scroll to the top loads the next older page, keeping the reader's place below it, until the server says
        // there is none (a last page that happens to be full needs one more, empty, answer to tell).
        var (shown, more) = await Eventually.ValueAsync(
            async () =>
            {
                await tab.Page.EvaluateAsync("document.getElementById('history').scrollTop = 0");
                return (Count: await tab.Messages.CountAsync(), More: await tab.Page.Locator("#load-older").IsVisibleAsync());
            },
            seen => !seen.More,
            Deadline,
            seen => $"{seen.Count} of {count} messages shown after scrolling up, more to load: {seen.More}",
            ChatKit.Token);

        Assert.InRange(first, 1, count - 1);
        Assert.Equal(count, shown);
        Assert.False(more);
        await Expect(tab.Texts).ToHaveTextAsync(texts);
        await tab.ScreenshotAsync("oldest");
        await tab.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task Reconnect_MessagesSentWhileDisconnected_AppearOnceInOrder()
    {
        // A small replay: more than it holds are missed, so the page also fills a gap from history.
        await using var node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Chat:ReplayMax"] = "5" }, cancellationToken: ChatKit.Token);
        await using var browser = await ChatBrowser.LaunchAsync();
        var alice = await node.UserAsync("alice");
        var bobKey = await node.UserAsync("bob");
        var room = await node.RoomAsync(alice, "general");
        await node.JoinAsync(bobKey, room);
        await node.PostAsync(alice, room, "before 1");
        await node.PostAsync(alice, room, "before 2");

        var bob = await browser.OpenAsync(node, "bob");
        var blocked = false;
        var attempts = 0;
        // Every socket the page opens goes through this route: while blocked, a connection is refused at once.
        await bob.Page.RouteWebSocketAsync("**/api/chat/ws", socket =>
        {
            Interlocked.Increment(ref attempts);
            if (Volatile.Read(ref blocked))
            {
                _ = socket.CloseAsync(new WebSocketRouteCloseOptions { Code = 1011, Reason = "refused by the test" });
            }
            else
            {
                socket.ConnectToServer();
            }
        });
        await bob.SignInAsync(bobKey, "bob");
        await bob.OpenRoomAsync(room);
        await Expect(bob.Texts).ToHaveTextAsync(["before 1", "before 2"]);
        await node.PostAsync(alice, room, "live 1");
        await Expect(bob.Texts).ToHaveTextAsync(["before 1", "before 2", "live 1"]);

        Volatile.Write(ref blocked, true);
        await bob.Page.EvaluateAsync("window.blueprintChat.socket.close()");
        await Expect(bob.Status).ToHaveAttributeAsync("data-state", "reconnecting");
        var missed = new List<string>();
        for (var index = 1; index <= 12; index++)
        {
            missed.Add($"missed {index}");
            await node.PostAsync(alice, room, $"missed {index}");
        }

        // The page has tried again and been refused at least once, so it recovers on a later attempt, after a backoff.
        await Eventually.TrueAsync(() => Volatile.Read(ref attempts) >= 2, Deadline, () => $"{Volatile.Read(ref attempts)} connections, none refused", ChatKit.Token);
        await Expect(bob.Status).ToHaveAttributeAsync("data-state", "reconnecting");
        Volatile.Write(ref blocked, false);
        await Expect(bob.Status).ToHaveAttributeAsync("data-state", "online");
        await node.PostAsync(alice, room, "after");

        string[] all = ["before 1", "before 2", "live 1", .. missed, "after"];
        await Expect(bob.Texts).ToHaveTextAsync(all);
        var ids = await bob.IdsAsync();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.OrderBy(id => long.Parse(id, CultureInfo.InvariantCulture)), ids);
        await bob.ScreenshotAsync("after-reconnect");
        await bob.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task LongPoller_InTheSameRoom_SeesTheMessagesTheTabSendsAndShows()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        await using var browser = await ChatBrowser.LaunchAsync();
        var alice = await browser.OpenAsync(node, "alice");
        await alice.SignUpAsync("alice");
        var room = await alice.CreateRoomAsync("general");
        var carol = await node.UserAsync("carol");
        await node.JoinAsync(carol, room);
        string[] sent = ["one", "two", "three", "four", "five"];

        // Carol long-polls from the start while Alice types: each poll waits for the next message, then resumes at `last`.
        var polled = PollAsync(node, carol, room, sent.Length);
        foreach (var text in sent)
        {
            await alice.SendAsync(text);
            await Expect(alice.Message(text)).ToHaveCountAsync(1);
        }

        var messages = await polled.WaitAsync(Deadline, ChatKit.Token);
        Assert.Equal(sent, messages.Select(message => message.Text));
        Assert.Equal(await alice.IdsAsync(), messages.Select(message => message.Id));
        Assert.All(messages, message => Assert.Equal("alice", message.User));
        await alice.AssertNoErrorsAsync();
    }

    [Fact]
    public async Task TwoTabsOnTwoNodes_ExchangeMessages_AndALongPollerOnAThirdSeesThemInTheSameOrder()
    {
        // The second and third nodes use the first one's KV and SQL database: one chat on three nodes.
        await using var nodes = await ChatNodes.StartAsync(3, (index, started) => index == 0 ? new Dictionary<string, string?>() : ChatKit.SharingWith(started[0]));
        await using var browser = await ChatBrowser.LaunchAsync();
        var alice = await browser.OpenAsync(nodes[0], "alice");
        var bob = await browser.OpenAsync(nodes[1], "bob");
        await alice.SignUpAsync("alice");
        await bob.SignUpAsync("bob");
        var room = await alice.CreateRoomAsync("across");
        await bob.JoinAsync(room);
        var carol = await nodes[2].UserAsync("carol");
        await nodes[2].JoinAsync(carol, room);
        string[] conversation = ["from node one", "from node two", "one again", "two again"];
        var polled = PollAsync(nodes[2], carol, room, conversation.Length);

        for (var index = 0; index < conversation.Length; index++)
        {
            var (sender, other) = index % 2 == 0 ? (alice, bob) : (bob, alice);
            await sender.SendAsync(conversation[index]);
            await Expect(other.Message(conversation[index])).ToHaveCountAsync(1);
        }

        await Expect(alice.Texts).ToHaveTextAsync(conversation);
        await Expect(bob.Texts).ToHaveTextAsync(conversation);
        await Expect(alice.Message("two again").Locator(".read-by")).ToHaveTextAsync("read by bob");
        var ids = await alice.IdsAsync();
        Assert.Equal(ids, await bob.IdsAsync());
        var messages = await polled.WaitAsync(Deadline, ChatKit.Token);
        Assert.Equal(ids, messages.Select(message => message.Id));
        Assert.Equal(conversation, messages.Select(message => message.Text));
        await alice.ScreenshotAsync("two-nodes");
        await bob.ScreenshotAsync("two-nodes");
        await alice.AssertNoErrorsAsync();
        await bob.AssertNoErrorsAsync();
    }

    private static async Task<List<(string Id, string User, string Text)>> PollAsync(TestNode node, string key, string room, int count)
    {
        var messages = new List<(string, string, string)>();
        var since = "0";
        while (messages.Count < count)
        {
            var (status, answer) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/poll?since={since}&wait=10", key);
            Assert.Equal(200, status);
            Assert.Equal(JsonValueKind.Null, answer.GetProperty("gap").ValueKind);
            messages.AddRange(answer.GetProperty("messages").EnumerateArray().Select(message => (message.Str("id"), message.Str("user"), message.Str("text"))));
            since = answer.Str("last");
        }

        return messages;
    }
}
