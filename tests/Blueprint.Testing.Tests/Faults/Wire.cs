using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Blueprint.Testing.Tests.Faults;

/// <summary>Client-side socket steps for the fault tests, each bounded by a deadline.</summary>
internal static class Wire
{
    /// <summary>How long a test waits for bytes that should come.</summary>
    public static readonly TimeSpan ArrivalDeadline = TimeSpan.FromSeconds(10);

    /// <summary>How long a test waits to conclude that bytes do not come (a read deadline, as a peer's timeout).</summary>
    public static readonly TimeSpan SilenceDeadline = TimeSpan.FromMilliseconds(400);

    public static async Task<Socket> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(ArrivalDeadline);
        await socket.ConnectAsync(endpoint, timeout.Token);
        return socket;
    }

    /// <summary>Exactly <paramref name="count"/> bytes, or null when the deadline passes first.</summary>
    /// <exception cref="EndOfStreamException">The peer closed before sending them.</exception>
    public static async Task<byte[]?> ReceiveAsync(Socket socket, int count, TimeSpan deadline)
    {
        var received = new byte[count];
        var filled = 0;
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            while (filled < count)
            {
                var read = await socket.ReceiveAsync(received.AsMemory(filled), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    throw new EndOfStreamException($"the peer closed after {filled} of {count} bytes");
                }

                filled += read;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return null;
        }

        return received;
    }

    /// <summary>Sends <paramref name="payload"/> while reading its echo, so neither side stalls on a full buffer.</summary>
    public static async Task<byte[]?> EchoAsync(Socket socket, byte[] payload, TimeSpan deadline)
    {
        var receiving = ReceiveAsync(socket, payload.Length, deadline);
        await socket.SendAsync(payload);
        return await receiving;
    }

    /// <summary>Asserts <paramref name="text"/> comes back unchanged through <paramref name="socket"/>.</summary>
    public static async Task AssertEchoesAsync(Socket socket, string text)
    {
        var echo = await EchoAsync(socket, Encoding.ASCII.GetBytes(text), ArrivalDeadline);
        Assert.Equal(text, echo is null ? "(nothing before the deadline)" : Encoding.ASCII.GetString(echo));
    }

    /// <summary>A connection to <paramref name="endpoint"/>, proven end to end by the echo of <paramref name="text"/>.</summary>
    public static async Task<Socket> ConnectEchoingAsync(IPEndPoint endpoint, string text)
    {
        var socket = await ConnectAsync(endpoint);
        try
        {
            await AssertEchoesAsync(socket, text);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Asserts the next read fails with a reset — not a timeout and not a clean end of stream.</summary>
    public static async Task AssertResetAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(ArrivalDeadline);
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            var read = await socket.ReceiveAsync(new byte[1].AsMemory(), SocketFlags.None, timeout.Token);
            Assert.Fail($"read {read} bytes (0 is a FIN) where a reset was expected");
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }

    /// <summary>
    /// Asserts a new connection to <paramref name="endpoint"/> is reset: the reset can beat the
    /// connect's completion (the connect fails) or follow it (the first read fails).
    /// </summary>
    public static async Task AssertRefusedAsync(IPEndPoint endpoint)
    {
        Socket socket;
        try
        {
            socket = await ConnectAsync(endpoint);
        }
        catch (SocketException error)
        {
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
            return;
        }

        using (socket)
        {
            await AssertResetAsync(socket);
        }
    }

    public static byte[] Bytes(int seed, int count)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
