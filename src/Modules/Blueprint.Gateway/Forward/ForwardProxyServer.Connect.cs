// CONNECT tunnels (RFC 9110 §9.3.6) as Kestrel connection middleware on the forward-proxy listener.
//
// Why below HTTP: Kestrel parses an HTTP/1.1 CONNECT but offers no way to turn its connection into
// a tunnel. IHttpUpgradeFeature needs "Connection: Upgrade" and answers 101, not 200;
// IHttpExtendedConnectFeature is HTTP/2's extended CONNECT (RFC 8441), which HTTP/1.1 clients such
// as curl -p never send; and ASP.NET Core's maintainers state that no ASP.NET Core server supports
// CONNECT tunnels (dotnet/aspnetcore#21953, dotnet/yarp#468). So this middleware peeks at the first
// bytes of each new connection: "CONNECT " makes the connection a tunnel served here, from a request
// head parsed with a size limit and a deadline; anything else is left unread in the pipe for Kestrel's
// HTTP/1.1, which hands absolute-form requests to ForwardProxyServer.Http.cs.

using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Blueprint.Gateway.Forward;

/// <summary>CONNECT tunnels: the request head, the allowlist, the connection to the destination, and the byte pumps.</summary>
internal sealed partial class ForwardProxyServer
{
    /// <summary>The largest CONNECT request head read (request line and headers); a longer one is answered 431.</summary>
    internal const int RequestHeadBytesMax = 8 * 1024;

    /// <summary>How long a new connection may take to send its request head (Kestrel's own default for HTTP).</summary>
    internal static readonly TimeSpan RequestHeadTimeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] ConnectPrefix = "CONNECT "u8.ToArray();
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private int _tunnels;

    /// <summary>The connection middleware for the forward-proxy listener.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> ConnectMiddleware => next => connection => HandleConnectionAsync(connection, next);

    private async Task HandleConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        connection.Features.Set(ForwardProxyConnectionFeature.Instance);
        var input = connection.Transport.Input;
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        bool isConnect;
        string? head = null;
        // Not ConnectionClosed: Kestrel's socket transport signals it at the client's FIN, possibly before
        // the bytes sent ahead of the FIN are read; a closed input ends the reads below by itself.
        using (var deadline = new CancellationTokenSource(RequestHeadTimeout, _time))
        using (var headRead = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, closing))
        {
            try
            {
                isConnect = await PeekAsync(input, headRead.Token);
                if (isConnect)
                {
                    head = await ReadHeadAsync(input, headRead.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
            {
                connection.Abort();
                return;
            }
        }

        if (!isConnect)
        {
            await next(connection); // not a CONNECT: Kestrel's HTTP/1.1 reads the same bytes
        }
        else if (head is null)
        {
            await RespondAsync(connection, 431, "Request Header Fields Too Large", $"the CONNECT request head exceeds {RequestHeadBytesMax} bytes");
        }
        else
        {
            await TunnelAsync(connection, head);
        }
    }

    /// <summary>Whether the connection starts with <c>CONNECT </c>; either way nothing is consumed.</summary>
    private static async Task<bool> PeekAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= ConnectPrefix.Length || result.IsCompleted)
            {
                var isConnect = buffer.Length >= ConnectPrefix.Length && StartsWith(buffer, ConnectPrefix);
                input.AdvanceTo(buffer.Start); // examined nothing: the next reader sees these bytes at once
                return isConnect;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The request head up to its blank line, consumed from the pipe; null when it passes <see cref="RequestHeadBytesMax"/>.</summary>
    private static async Task<string?> ReadHeadAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd, advancePastDelimiter: true) && head.Length <= RequestHeadBytesMax)
            {
                var text = Encoding.Latin1.GetString(head);
                input.AdvanceTo(reader.Position); // bytes after the head (an early TLS hello) stay for the tunnel
                return text;
            }

            if (buffer.Length > RequestHeadBytesMax)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                throw new IOException("the connection closed inside the CONNECT request head");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async Task TunnelAsync(ConnectionContext connection, string head)
    {
        var requestLine = head.Split("\r\n", 2)[0];
        var parts = requestLine.Split(' ');
        if (parts.Length != 3 || parts[0] != "CONNECT" || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            await RespondAsync(connection, 400, "Bad Request", $"'{requestLine}' is not CONNECT host:port HTTP/1.1");
            return;
        }

        var target = parts[1];
        var refusal = Destination.TryParseAuthority(target, out var destination) is { } invalid ? (400, $"the CONNECT target '{target}' {invalid}")
            : _allowlist.Refusal(destination) is { } notAllowed ? (403, notAllowed)
            : !_options.EffectiveConnectPorts.Contains(destination.Port) ? (403, $"CONNECT may reach ports {string.Join(", ", _options.EffectiveConnectPorts)} only (Gateway:ForwardProxy:ConnectPorts), not {destination.Port}")
            : ((int Status, string Reason)?)null;
        if (refusal is var (status, reason))
        {
            LogRefused("CONNECT", target, reason);
            await RespondAsync(connection, status, status == 400 ? "Bad Request" : "Forbidden", reason);
            return;
        }

        if (Interlocked.Increment(ref _tunnels) > _options.TunnelsMax)
        {
            Interlocked.Decrement(ref _tunnels);
            await RespondAsync(connection, 503, "Service Unavailable", $"{_options.TunnelsMax} tunnels are open (Gateway:ForwardProxy:TunnelsMax)");
            return;
        }

        try
        {
            var socket = await ConnectAsync(connection, destination);
            if (socket is not null)
            {
                await PumpAsync(connection, socket, destination);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _tunnels);
        }
    }

    /// <summary>The connected socket, or null after answering 502 or 504.</summary>
    private async Task<Socket?> ConnectAsync(ConnectionContext connection, Destination destination)
    {
        using var timeout = new CancellationTokenSource(ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, connection.ConnectionClosed);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // An allowed name is resolved here and only its own addresses are tried; an address literal is used as written.
            var addresses = destination.Address is { } address ? [address] : await Dns.GetHostAddressesAsync(destination.Host, linked.Token);
            await socket.ConnectAsync(addresses, destination.Port, linked.Token);
            return socket;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ArgumentException)
        {
            socket.Dispose();
            if (connection.ConnectionClosed.IsCancellationRequested)
            {
                return null;
            }

            var (status, reason) = timeout.IsCancellationRequested
                ? (504, $"{destination.Authority} did not accept a connection within {ConnectTimeout.TotalSeconds} s")
                : (502, $"{destination.Authority} cannot be reached ({(e as SocketException)?.SocketErrorCode.ToString() ?? e.Message})");
            LogRefused("CONNECT", destination.Authority, reason);
            await RespondAsync(connection, status, status == 504 ? "Gateway Timeout" : "Bad Gateway", reason);
            return null;
        }
    }

    /// <summary>
    /// Answers 200 and copies bytes both ways until the destination closes (then the client's
    /// connection is closed), the client closes (its half-close is passed on), either fails, the
    /// tunnel stays idle past <see cref="ForwardProxyOptions.IdleTimeoutSeconds"/>, or the node stops.
    /// </summary>
    private async Task PumpAsync(ConnectionContext connection, Socket socket, Destination destination)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        using var idle = new CancellationTokenSource(IdleTimeout, _time);
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        // Not ConnectionClosed (signalled at the client's FIN): a FIN is only a half-close here; a reset
        // fails the client's read instead, and that ends the tunnel.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, closing);
        var output = connection.Transport.Output;
        try
        {
            await output.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException)
        {
            return; // the client left while the destination was being reached
        }

        long up = 0;
        long down = 0;
        async Task ClientToDestinationAsync()
        {
            var input = connection.Transport.Input;
            while (true)
            {
                var result = await input.ReadAsync(stop.Token);
                foreach (var segment in result.Buffer)
                {
                    await stream.WriteAsync(segment, stop.Token);
                }

                up += result.Buffer.Length;
                input.AdvanceTo(result.Buffer.End);
                idle.CancelAfter(IdleTimeout);
                if (result.IsCompleted)
                {
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }
            }
        }

        async Task DestinationToClientAsync()
        {
            var buffer = ArrayPool<byte>.Shared.Rent(_options.TunnelBufferBytes);
            try
            {
                while (true)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, _options.TunnelBufferBytes), stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    // Back-pressure: the flush waits while Kestrel's output buffer is full.
                    var flushed = await output.WriteAsync(buffer.AsMemory(0, read), stop.Token);
                    down += read;
                    idle.CancelAfter(IdleTimeout);
                    if (flushed.IsCompleted)
                    {
                        return;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        async Task GuardAsync(Func<Task> pump, bool endsTunnel)
        {
            try
            {
                await pump();
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ConnectionResetException or ObjectDisposedException)
            {
                endsTunnel = true;
            }

            if (endsTunnel)
            {
                await stop.CancelAsync();
            }
        }

        // The destination's end ends the tunnel; the client's end is only a half-close until the destination answers it.
        await Task.WhenAll(GuardAsync(ClientToDestinationAsync, endsTunnel: false), GuardAsync(DestinationToClientAsync, endsTunnel: true));
        await output.CompleteAsync();
        await connection.Transport.Input.CompleteAsync();
        LogTunnelClosed(destination.Authority, up, down);
    }

    /// <summary>Writes a final response with a problem+json body (RFC 9457) and closes the connection.</summary>
    private static async Task RespondAsync(ConnectionContext connection, int status, string phrase, string detail)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("title", phrase);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            json.WriteEndObject();
        }

        var output = connection.Transport.Output;
        try
        {
            await output.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/problem+json\r\nContent-Length: {body.WrittenCount}\r\nConnection: close\r\n\r\n"));
            await output.WriteAsync(body.WrittenMemory);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ObjectDisposedException)
        {
            // The client left before the answer: nothing to tell it.
        }

        await output.CompleteAsync();
        await connection.Transport.Input.CompleteAsync();
    }

    private static bool StartsWith(ReadOnlySequence<byte> buffer, byte[] prefix)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.IsNext(prefix, advancePast: false);
    }
}
