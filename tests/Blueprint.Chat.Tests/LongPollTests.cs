namespace Blueprint.Chat.Tests;

/// <summary>Long polling: the messages after an offset at once, or the next one when it comes.</summary>
public sealed class LongPollTests
{
    [Fact]
    public async Task APoll_AnswersWithWhatWasMissed_OrWaitsForTheNextMessage()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        var bob = await node.UserAsync("bob");
        var room = await node.RoomAsync(alice, "general");
        await node.JoinAsync(bob, room);
        var first = await node.PostAsync(alice, room, "one");

        var (_, missed) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/poll?since=0&wait=0", bob);
        var (_, nothing) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/poll?since={first}&wait=0", bob);
        var waiting = node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/poll?since={first}&wait=60", bob);
        var second = await node.PostAsync(alice, room, "two");
        var (status, woken) = await waiting;
        var (notMember, _) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/poll?since=0&wait=0", await node.UserAsync("carol"));

        Assert.Equal([first], missed.GetProperty("messages").EnumerateArray().Select(message => message.Str("id")));
        Assert.Equal(first, missed.Str("last"));
        Assert.Empty(nothing.GetProperty("messages").EnumerateArray());
        Assert.Equal(first, nothing.Str("last"));
        Assert.Equal(200, status);
        Assert.Equal([second], woken.GetProperty("messages").EnumerateArray().Select(message => message.Str("id")));
        Assert.Equal(second, woken.Str("last"));
        Assert.Equal(403, notMember);
    }
}
