using System.Net;
using System.Net.Sockets;

namespace Blueprint.Testing;

/// <summary>
/// Loopback ports from a fixed range, each reserved across processes before it is handed: a port is handed only
/// when this process takes the exclusive lock on its file in <see cref="Folder"/> (<c>&lt;port&gt;.lock</c>, opened
/// with <see cref="FileShare.None"/>, which .NET takes as an <c>flock</c> on Unix) and it binds on 127.0.0.1 right
/// now. The lock is kept for the life of the process, so the OS releases it when the process ends, however it ends.
/// Lock files are never deleted: deleting one would let two processes lock two different files for one port.
/// </summary>
public sealed class PortPool
{
    /// <summary>How many candidate ports (or blocks) are tried before giving up.</summary>
    public const int AttemptsMax = 1_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<int, FileStream> _held = [];

    /// <summary>A pool over the ports <paramref name="lowest"/> to <paramref name="highest"/>, both included.</summary>
    public PortPool(int lowest, int highest, string folder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lowest, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(highest, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lowest, highest);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Lowest = lowest;
        Highest = highest;
        Folder = folder;
    }

    /// <summary>The lowest port handed.</summary>
    public int Lowest { get; }

    /// <summary>The highest port handed.</summary>
    public int Highest { get; }

    /// <summary>The folder of the per-port lock files, shared by every process using the same one.</summary>
    public string Folder { get; }

    /// <summary>A port free on 127.0.0.1 now, reserved by no other process and never handed before by this pool.</summary>
    /// <exception cref="InvalidOperationException">No such port was found in <see cref="AttemptsMax"/> tries.</exception>
    public int Next() => Block(1);

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ports, each free on 127.0.0.1 now, reserved by no other
    /// process and never handed before by this pool, for commands that number their ports from a first one.
    /// </summary>
    /// <exception cref="InvalidOperationException">No such block was found in <see cref="AttemptsMax"/> tries.</exception>
    public int Block(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Highest - Lowest + 1);
        lock (_gate)
        {
            Directory.CreateDirectory(Folder);
            for (var attempt = 0; attempt < AttemptsMax; attempt++)
            {
                var first = Random.Shared.Next(Lowest, Highest - count + 2);
                if (TryReserve(first, count))
                {
                    return first;
                }
            }
        }

        throw new InvalidOperationException(
            $"no block of {count} free loopback port(s) in {Lowest}-{Highest} after {AttemptsMax} attempts (lock files in {Folder})");
    }

    /// <summary>Reserves all of <paramref name="first"/> .. first + count - 1, or none of them.</summary>
    private bool TryReserve(int first, int count)
    {
        var taken = new List<(int Port, FileStream Lock)>(count);
        var reserved = true;
        for (var port = first; port < first + count && reserved; port++)
        {
            if (_held.ContainsKey(port) || TryLock(port) is not { } fileLock)
            {
                reserved = false;
            }
            else
            {
                taken.Add((port, fileLock));
                reserved = Binds(port);
            }
        }

        if (reserved)
        {
            foreach (var (port, fileLock) in taken)
            {
                _held.Add(port, fileLock);
            }

            return true;
        }

        foreach (var (_, fileLock) in taken)
        {
            fileLock.Dispose();
        }

        return false;
    }

    /// <summary>The exclusive lock on the port's file, or null when another holder has it.</summary>
    private FileStream? TryLock(int port)
    {
        try
        {
            // Read access suffices for the lock; the file stays empty.
            return new FileStream(Path.Combine(Folder, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.Read, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool Binds(int port)
    {
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
