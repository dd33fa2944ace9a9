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

    /// <summary>
    /// <paramref name="count"/> consecutive loopback ports, each free a moment ago and none handed out before, for
    /// commands that number their ports from a first one (<c>blueprint cluster up --etcd-port</c>).
    /// </summary>
    public static int Block(int count)
    {
        for (var attempt = 0; attempt < AttemptsMax; attempt++)
        {
            var first = Random.Shared.Next(20_000, 60_000 - count);
            var ports = Enumerable.Range(first, count).ToList();
            if (ports.All(IsFree) && ports.All(port => Handed.TryAdd(port, 0)))
            {
                return first;
            }
        }

        throw new InvalidOperationException($"no block of {count} free loopback ports after {AttemptsMax} attempts");
    }

    private static bool IsFree(int port)
    {
        if (Handed.ContainsKey(port))
        {
            return false;
        }

        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
