using System.Net;
using System.Net.Sockets;

namespace Blueprint.Lab.Processes;

/// <summary>Free loopback ports for the programs the lab starts.</summary>
internal static class LoopbackPorts
{
    /// <summary>A port the kernel hands out as free on 127.0.0.1 now (bind to port 0, then release it).</summary>
    public static int Next()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
