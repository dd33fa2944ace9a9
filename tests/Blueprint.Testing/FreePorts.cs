using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Blueprint.Testing;

/// <summary>
/// Hands out loopback ports that were free a moment ago and never hands the same one twice in a
/// test run, so parallel tests do not collide with each other (Orleans' port allocator habit).
/// </summary>
public static class FreePorts
{
    private static readonly ConcurrentDictionary<int, byte> Handed = new();
    private const int AttemptsMax = 100;

    /// <summary>A port free on 127.0.0.1 now and not handed out before in this process.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < AttemptsMax; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (Handed.TryAdd(port, 0))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port after {AttemptsMax} attempts");
    }
}
