using System.Net;
using System.Net.Sockets;

namespace Blueprint.Hosting;

/// <summary>Tells whether a TCP port can be bound, so a start fails with one clear line instead of a listener's stack trace.</summary>
public static class PortProbe
{
    /// <summary>Whether <paramref name="port"/> on <paramref name="address"/> can be listened on now.</summary>
    public static bool IsFree(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return false;
        }
    }
}
