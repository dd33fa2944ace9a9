using System.Net.Http.Headers;
using System.Text.Json;

namespace Blueprint.Chat.Tests;

/// <summary>The SSE transport: a room's frames as events, sends over POST, recovery by <c>since</c> or <c>Last-Event-ID</c>.</summary>
public sealed class EventStreamTests
{
    /// <summary>One room's event stream, read event by event.</summary>
    private sealed class EventStream : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpResponseMessage response, Stream body)
        {
            _response = response;
            _reader = new StreamReader(body);
        }

        public static async Task<EventStream> OpenAsync(HttpClient http, string key, string room, string? since = null, string? lastEventId = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/chat/rooms/{room}/events" + (since is null ? "" : $"?since={since}"), UriKind.Relative));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ChatKit.Token);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new EventStream(response, await response.Content.ReadAsStreamAsync(ChatKit.Token));
        }

        /// <summary>The next event but pings: its SSE event name, id (or null) and data.</summary>
        public async Task<(string Event, string? Id, JsonElement Data)> NextAsync()
        {
            while (true)
            {
                string? name = null, id = null, data = null;
                while (await _reader.ReadLineAsync(ChatKit.Token) is { Length: > 0 } line)
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    var value = line[(colon + 1)..].TrimStart();
                    switch (line[..colon])
                    {
                        case "event": name = value; break;
                        case "id": id = value; break;
                        case "data": data = value; break;
                    }
                }

                if (name is not null and not "ping")
                {
                    return (name, id, JsonDocument.Parse(data!).RootElement.Clone());
                }
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
        }
    }

    [Fact]
    public async Task AStream_ReplaysFromSince_ThenLive_AndResumesFromLastEventId()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        using var http = new HttpClient { BaseAddress = node.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var alice = await node.UserAsync("alice");
        var bob = await node.UserAsync("bob");
        var room = await node.RoomAsync(alice, "general");
        await node.JoinAsync(bob, room);
        var first = await node.PostAsync(alice, room, "one");
        var second = await node.PostAsync(alice, room, "two");

        string lastSeen;
        var events = new List<(string Event, string? Id, JsonElement Data)>();
        using (var stream = await EventStream.OpenAsync(http, bob, room, since: first))
        {
            events.Add(await stream.NextAsync());
            events.Add(await stream.NextAsync());
            var third = await node.PostAsync(alice, room, "three");
            Assert.Equal(204, (await node.CallAsync(HttpMethod.Post, $"/api/chat/rooms/{room}/typing", alice)).Status);
            events.Add(await stream.NextAsync());
            events.Add(await stream.NextAsync());
            lastSeen = third;
        }

        var fourth = await node.PostAsync(alice, room, "four");
        using var resumed = await EventStream.OpenAsync(http, bob, room, lastEventId: lastSeen);
        var recovered = await resumed.NextAsync();

        Assert.Equal(("message", second, "two"), (events[0].Event, events[0].Id, events[0].Data.Str("text")));
        Assert.Equal(("subscribed", null, second), (events[1].Event, events[1].Id, events[1].Data.Str("last")));
        Assert.Equal(("message", lastSeen), (events[2].Event, events[2].Id));
        Assert.Equal(("typing", "alice"), (events[3].Event, events[3].Data.Str("user")));
        Assert.Equal(("message", fourth), (recovered.Event, recovered.Id));
    }

    [Fact]
    public async Task AStream_OfARoomOneIsNotIn_IsRefusedBeforeItStarts()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        var alice = await node.UserAsync("alice");
        var bob = await node.UserAsync("bob");
        var room = await node.RoomAsync(alice, "private");

        var (status, problem) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/events", bob);

        Assert.Equal((403, "not_member"), (status, problem.Str("title")));
    }

    [Fact]
    public async Task AnEventSourceWithoutHeaders_GetsInWithATicketInTheUrl_AndOnlyWithATicket()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);
        using var http = new HttpClient { BaseAddress = node.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var alice = await node.UserAsync("alice");
        var room = await node.RoomAsync(alice, "general");
        var sent = await node.PostAsync(alice, room, "hello");
        var (status, issued) = await node.CallAsync(HttpMethod.Post, "/api/chat/tickets", alice);
        Assert.Equal(201, status);
        var ticket = issued.Str("ticket");
        Assert.StartsWith("bpt_", ticket, StringComparison.Ordinal);

        // No header at all, as an EventSource connects.
        using (var response = await http.GetAsync(new Uri($"/api/chat/rooms/{room}/events?since=0&ticket={ticket}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, ChatKit.Token))
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ChatKit.Token));
            Assert.Equal("event: message", await reader.ReadLineAsync(ChatKit.Token));
            Assert.Equal($"id: {sent}", await reader.ReadLineAsync(ChatKit.Token));
        }

        // A key is never taken from a URL, nor a made-up ticket, nor a ticket on another call.
        foreach (var path in new[] { $"/api/chat/rooms/{room}/events?ticket={alice}", $"/api/chat/rooms/{room}/events?ticket=bpt_{new string('x', 40)}", $"/api/chat/rooms/{room}/messages?ticket={ticket}" })
        {
            using var refused = await http.GetAsync(new Uri(path, UriKind.Relative), ChatKit.Token);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }
}
