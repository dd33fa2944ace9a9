using System.Buffers;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Blueprint.Chat.Tests;

/// <summary>What the chat tests share: users over HTTP, authenticated calls, and a WebSocket client of the protocol.</summary>
internal static class ChatKit
{
    public static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Creates a user and returns their key.</summary>
    public static async Task<string> UserAsync(this TestNode node, string name)
    {
        using var response = await node.Http.PostAsJsonAsync("/api/chat/users", new { name }, Token);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("key").GetString()!;
    }

    /// <summary>An authenticated call; returns the status and the JSON body (default when empty).</summary>
    public static async Task<(int Status, JsonElement Body)> CallAsync(this TestNode node, HttpMethod method, string path, string key, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await node.Http.SendAsync(request, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Creates a room owned by the key's user and returns its id.</summary>
    public static async Task<string> RoomAsync(this TestNode node, string key, string name)
    {
        var (status, room) = await node.CallAsync(HttpMethod.Post, "/api/chat/rooms", key, new { name });
        Assert.Equal(201, status);
        return room.GetProperty("id").GetString()!;
    }

    public static async Task JoinAsync(this TestNode node, string key, string room) =>
        Assert.Equal(200, (await node.CallAsync(HttpMethod.Post, $"/api/chat/rooms/{room}/join", key)).Status);

    /// <summary>Sends over HTTP and returns the new message's id.</summary>
    public static async Task<string> PostAsync(this TestNode node, string key, string room, string text)
    {
        var (status, message) = await node.CallAsync(HttpMethod.Post, $"/api/chat/rooms/{room}/messages", key, new { text });
        Assert.Equal(201, status);
        return message.GetProperty("id").GetString()!;
    }

    /// <summary>The settings of a node that uses <paramref name="first"/>'s KV and SQL database: one chat on both.</summary>
    public static Dictionary<string, string?> SharingWith(TestNode first) => new()
    {
        ["Kv:ConnectionString"] = first.RespEndpoint,
        ["Sql:ConnectionString"] = $"Data Source={Path.Combine(first.DataDir, "sql", "blueprint.db")}",
    };

    /// <summary>A room's whole history as ids, oldest first, paged by cursor.</summary>
    public static async Task<List<string>> HistoryAsync(this TestNode node, string key, string room)
    {
        var ids = new List<string>();
        string? before = null;
        do
        {
            var (status, page) = await node.CallAsync(HttpMethod.Get, $"/api/chat/rooms/{room}/messages?limit=100{(before is null ? "" : $"&before={before}")}", key);
            Assert.Equal(200, status);
            ids.AddRange(page.GetProperty("messages").EnumerateArray().Select(message => message.Str("id")));
            before = page.GetProperty("next").GetString();
        }
        while (before is not null);

        ids.Reverse();
        return ids;
    }

    public static string Type(this JsonElement frame) => frame.GetProperty("type").GetString()!;

    public static string Str(this JsonElement frame, string name) => frame.GetProperty(name).GetString()!;
}

/// <summary>A WebSocket client of the chat protocol.</summary>
internal sealed class ChatClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private int _refs;

    private ChatClient()
    {
    }

    public WebSocket Socket => _socket;

    /// <summary>Connects with the key in the Authorization header (null: connect unauthenticated) and, with a key, reads the <c>ready</c> frame.</summary>
    public static Task<ChatClient> ConnectAsync(TestNode node, string? key) =>
        ConnectAsync(new UriBuilder(node.Http.BaseAddress!) { Scheme = "ws", Path = "/api/chat/ws" }.Uri, key);

    /// <summary>Connects to the WebSocket at <paramref name="uri"/>, as <see cref="ConnectAsync(TestNode, string?)"/> does.</summary>
    public static async Task<ChatClient> ConnectAsync(Uri uri, string? key)
    {
        var client = new ChatClient();
        if (key is not null)
        {
            client._socket.Options.SetRequestHeader("Authorization", $"Bearer {key}");
        }

        await client._socket.ConnectAsync(uri, ChatKit.Token);
        if (key is not null)
        {
            Assert.Equal("ready", (await client.NextAsync()).Type());
        }

        return client;
    }

    /// <summary>Sends a frame with a fresh <c>ref</c> and returns the ref.</summary>
    public async Task<string> SendAsync(object frame)
    {
        var reference = $"r{Interlocked.Increment(ref _refs)}";
        var json = JsonSerializer.SerializeToNode(frame)!.AsObject();
        json["ref"] = reference;
        await SendRawAsync(Encoding.UTF8.GetBytes(json.ToJsonString()));
        return reference;
    }

    public Task SendRawAsync(byte[] bytes) => _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ChatKit.Token);

    /// <summary>The next frame that is not a ping or typing; null when the server closed.</summary>
    public async Task<JsonElement> NextAsync(bool skipTyping = true)
    {
        while (true)
        {
            var frame = await ReadAsync() ?? throw new InvalidOperationException($"the server closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
            var type = frame.Type();
            if (type != "ping" && !(skipTyping && type == "typing"))
            {
                return frame;
            }
        }
    }

    /// <summary>The next frame that is not a ping or typing, or null when the server closed.</summary>
    public async Task<JsonElement?> NextOrCloseAsync()
    {
        while (await ReadAsync() is { } frame)
        {
            if (frame.Type() is not ("ping" or "typing"))
            {
                return frame;
            }
        }

        return null;
    }

    /// <summary>The next frame of <paramref name="type"/>, skipping others.</summary>
    public async Task<JsonElement> NextOfAsync(string type)
    {
        while (true)
        {
            var frame = await NextAsync(skipTyping: type != "typing");
            if (frame.Type() == type)
            {
                return frame;
            }
        }
    }

    /// <summary>Reads one frame; null on the server's close.</summary>
    public async Task<JsonElement?> ReadAsync()
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var received = await _socket.ReceiveAsync(buffer.GetMemory(4096), ChatKit.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            buffer.Advance(received.Count);
            if (received.EndOfMessage)
            {
                return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
            }
        }
    }

    /// <summary>Subscribes and returns the frames up to and including <c>subscribed</c> (the replay, and a gap if any).</summary>
    public async Task<List<JsonElement>> SubscribeAsync(string room, string? since = null)
    {
        await SendAsync(since is null ? new { type = "subscribe", room } : new { type = "subscribe", room, since });
        var frames = new List<JsonElement>();
        while (true)
        {
            var frame = await NextAsync();
            frames.Add(frame);
            if (frame.Type() is "subscribed" or "error")
            {
                return frames;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ChatKit.Token);
            }
            catch (WebSocketException)
            {
                // Gone already.
            }
        }

        _socket.Dispose();
    }
}
