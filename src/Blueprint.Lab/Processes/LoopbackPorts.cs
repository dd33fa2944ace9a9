using System.Net;
using System.Net.Sockets;

namespace Blueprint.Lab.Processes;

/// <summary>Free loopback ports for the programs the lab starts, never the same one twice in a process.</summary>
internal static class LoopbackPorts
{
    /// <summary>How many ports the kernel may offer before giving up on a new one.</summary>
    private const int AttemptsMax = 100;

    private static readonly HashSet<int> Handed = [];
    private static readonly Lock Gate = new();

    /// <summary>A port the kernel hands out as free on 127.0.0.1 now (bind to port 0, then release it).</summary>
    /// <exception cref="InvalidOperationException">The kernel offered only ports handed before.</exception>
    public static int Next()
    {
        lock (Gate)
        {
            for (int attempt = 0; attempt < AttemptsMax; attempt++)
            {
                using TcpListener listener = new(IPAddress.Loopback, 0);
                listener.Start();
                int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"no new free loopback port in {AttemptsMax} attempts");
    }
}
