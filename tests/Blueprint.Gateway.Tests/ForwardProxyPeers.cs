using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.Gateway.Tests;

/// <summary>A node running only the gateway, with the forward proxy on a free port.</summary>
internal sealed class ForwardProxyHarness : IAsyncDisposable
{
    private ForwardProxyHarness(TestNode node, int port)
    {
        Node = node;
        Port = port;
    }

    public TestNode Node { get; }

    public int Port { get; }

    public static async Task<ForwardProxyHarness> StartAsync(
        string[] allow, int[]? connectPorts = null, int connectTimeoutSeconds = 5, int? port = null, Dictionary<string, string?>? extra = null)
    {
        var listen = port ?? FreePorts.Next();
        var settings = new Dictionary<string, string?>(extra ?? [])
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ForwardProxy:Port"] = $"{listen}",
            ["Gateway:ForwardProxy:ConnectTimeoutSeconds"] = $"{connectTimeoutSeconds}",
        };
        for (var i = 0; i < allow.Length; i++)
        {
            settings[$"Gateway:ForwardProxy:Allow:{i}"] = allow[i];
        }

        for (var i = 0; i < (connectPorts?.Length ?? 0); i++)
        {
            settings[$"Gateway:ForwardProxy:ConnectPorts:{i}"] = $"{connectPorts![i]}";
        }

        return new ForwardProxyHarness(await TestNode.StartAsync(settings: settings, cancellationToken: TestContext.Current.CancellationToken), listen);
    }

    public ValueTask DisposeAsync() => Node.DisposeAsync();
}

/// <summary>An HTTP destination on loopback that records each request's method, target and header names, and answers "seen METHOD target".</summary>
internal sealed class RecordingBackend : IAsyncDisposable
{
    private readonly LoopbackApp _app;

    private RecordingBackend(LoopbackApp app)
    {
        _app = app;
        Port = new Uri(app.Address).Port;
    }

    public int Port { get; }

    public ConcurrentQueue<(string Target, string[] Headers)> Requests { get; } = new();

    public static async Task<RecordingBackend> StartAsync()
    {
        var requests = new ConcurrentQueue<(string Target, string[] Headers)>();
        var app = await LoopbackApp.StartAsync(HttpProtocols.Http1AndHttp2, _ => { }, app => app.Run(async context =>
        {
            var target = $"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}";
            requests.Enqueue((target, context.Request.Headers.Keys.Select(key => key.ToLowerInvariant()).ToArray()));
            var body = Encoding.UTF8.GetBytes($"seen {target}");
            context.Response.ContentLength = body.Length; // no chunked framing in the raw responses the tests read
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }));
        return new RecordingBackend(app, requests);
    }

    private RecordingBackend(LoopbackApp app, ConcurrentQueue<(string Target, string[] Headers)> requests)
        : this(app) => Requests = requests;

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>
/// A loopback listener that never accepts, with its accept queue filled: Linux drops further
/// SYNs, so a connection attempt to it hangs until the connecting side gives up.
/// </summary>
internal sealed class FullListener : IDisposable
{
    private const int FillersMax = 16;
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private FullListener(Socket listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static async Task<FullListener> StartAsync()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var full = new FullListener(listener);
        for (var i = 0; i < FillersMax; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            full._fillers.Add(filler);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            attempt.CancelAfter(TimeSpan.FromMilliseconds(500)); // a loopback connect to a free queue takes microseconds
            try
            {
                await filler.ConnectAsync(listener.LocalEndPoint!, attempt.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                return full; // the queue is full: this connect hung
            }
        }

        full.Dispose();
        throw new InvalidOperationException($"the accept queue took {FillersMax} connections without filling up");
    }

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}

/// <summary>A TCP server on loopback that answers each ';'-terminated message with "echo:" and the message, and "echo:bye" before closing when the client ends its side.</summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _accepted;

    private EchoServer(TcpListener listener)
    {
        _listener = listener;
        _loop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Accepted => Volatile.Read(ref _accepted);

    public static EchoServer Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new EchoServer(listener);
    }

    private async Task AcceptLoopAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                connections.Add(ServeAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
            await Task.WhenAll(connections);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var buffer = new byte[64 * 1024];
            try
            {
                // Messages end with ';': each is answered "echo:" and its bytes as they come, however they are split.
                var prefixed = false;
                int read;
                while ((read = await stream.ReadAsync(buffer, _stop.Token)) > 0)
                {
                    if (!prefixed)
                    {
                        await stream.WriteAsync("echo:"u8.ToArray(), _stop.Token);
                        prefixed = true;
                    }

                    await stream.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                    prefixed = buffer[read - 1] != (byte)';';
                }

                await stream.WriteAsync("echo:bye"u8.ToArray(), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The test is over, or the tunnel closed.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
