using System.Net.Http.Headers;
using System.Net.WebSockets;

namespace Blueprint.Chat.Tests;

/// <summary>A node that stops lets its clients go at once, each told in its transport's way, instead of holding the shutdown.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task AStoppingNode_ClosesSocketsWith1001_EndsStreams_AndAnswersLongPolls()
    {
        var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        var stopped = false;
        try
        {
            using var http = new HttpClient { BaseAddress = node.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            var alice = await node.UserAsync("alice");
            var room = await node.RoomAsync(alice, "general");
            await using var client = await ChatClient.ConnectAsync(node, alice);
            Assert.Equal("subscribed", (await client.SubscribeAsync(room))[^1].Type());

            using var streamRequest = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/chat/rooms/{room}/events", UriKind.Relative));
            streamRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alice);
            using var stream = await http.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead, ChatKit.Token);
            using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(ChatKit.Token));
            Assert.Equal("event: subscribed", await reader.ReadLineAsync(ChatKit.Token));

            using var pollRequest = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/chat/rooms/{room}/poll?since=0&wait=60", UriKind.Relative));
            pollRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alice);
            var poll = http.SendAsync(pollRequest, ChatKit.Token);

            var stopping = node.DisposeAsync().AsTask();
            stopped = true;

            Assert.Null(await client.NextOrCloseAsync());
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.Socket.CloseStatus);
            var rest = await reader.ReadToEndAsync(ChatKit.Token);
            Assert.Contains("event: close", rest, StringComparison.Ordinal);
            Assert.Contains("\"code\":1001", rest, StringComparison.Ordinal);
            using var polled = await poll;
            Assert.Equal(System.Net.HttpStatusCode.OK, polled.StatusCode);
            Assert.Contains("\"messages\":[]", await polled.Content.ReadAsStringAsync(ChatKit.Token), StringComparison.Ordinal);
            await stopping;
        }
        finally
        {
            if (!stopped)
            {
                await node.DisposeAsync();
            }
        }
    }
}
