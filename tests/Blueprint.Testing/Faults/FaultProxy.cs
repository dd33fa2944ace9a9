using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Blueprint.Testing.Faults;

/// <summary>
/// A TCP proxy on loopback that forwards every accepted connection to one upstream endpoint and
/// injects faults on command: added latency, a blackhole (silent partition), refusal, resets, and a
/// hard partition. The faults are one immutable <see cref="LinkFaults"/> snapshot, changeable at any
/// moment from any thread, and apply to open and new connections alike.
/// </summary>
/// <remarks>
/// Hand-written rather than taken from Toxiproxy: Toxiproxy is a Go server driven over HTTP, not a
/// .NET library, and the cluster tests need per-link control in-process — changed synchronously
/// between two steps of a test, with counters to assert on — without a separate binary.
/// See docs/fault-proxy.md for the fault semantics and the link model.
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    /// <summary>The size of one read, the unit that latency delays and a blackhole drops.</summary>
    public const int ChunkSizeBytes = 16 * 1024;

    /// <summary>
    /// Chunks held per direction per connection (read but not yet written). When full, the proxy
    /// stops reading and TCP back-pressure reaches the sender, so a delayed connection carries at
    /// most this window per latency period, as a real long link would.
    /// </summary>
    public const int ChunksInFlightMax = 16;

    /// <summary>The largest latency or jitter accepted.</summary>
    public static readonly TimeSpan LatencyMax = TimeSpan.FromMinutes(1);

    private const int ListenBacklog = 128;

    private readonly Socket _listener;
    private readonly FaultProxyOptions _options;
    private readonly Random _jitterRandom;
    private readonly Lock _jitterGate = new();
    private readonly ConcurrentDictionary<long, ProxiedConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private LinkFaults _faults = LinkFaults.None;
    private long _nextConnectionId;
    private int _disposed;

    private FaultProxy(Socket listener, IPEndPoint upstream, FaultProxyOptions options)
    {
        _listener = listener;
        _options = options;
        _jitterRandom = options.JitterRandom ?? new Random(FaultProxyOptions.JitterSeedDefault);
        Upstream = upstream;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The loopback endpoint clients dial.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The port clients dial (the chosen one when the options asked for 0).</summary>
    public int Port => Endpoint.Port;

    /// <summary>The endpoint every connection is forwarded to.</summary>
    public IPEndPoint Upstream { get; }

    /// <summary>The faults in force now.</summary>
    public LinkFaults Faults => Volatile.Read(ref _faults);

    /// <summary>What the proxy has done so far.</summary>
    public LinkCounters Counters { get; } = new();

    internal TimeProvider Time => _options.TimeProvider;

    internal TimeSpan UpstreamConnectTimeout => _options.UpstreamConnectTimeout;

    /// <summary>Starts listening on loopback and forwarding to <paramref name="upstream"/>.</summary>
    /// <param name="upstream">A loopback endpoint (127.0.0.0/8 or ::1): the proxy is for tests on one machine.</param>
    /// <param name="options">Null for the defaults.</param>
    /// <exception cref="ArgumentException">The upstream is not loopback, or the options are invalid.</exception>
    public static FaultProxy Start(IPEndPoint upstream, FaultProxyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        if (!IPAddress.IsLoopback(upstream.Address))
        {
            throw new ArgumentException($"upstream {upstream} is not a loopback address", nameof(upstream));
        }

        options ??= new FaultProxyOptions();
        options.Validate();
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, options.ListenPort));
            listener.Listen(ListenBacklog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new FaultProxy(listener, upstream, options);
    }

    /// <summary>
    /// Replaces the faults with <c>change(current)</c> atomically (retried if another thread changed
    /// them first, so <paramref name="change"/> must be free of side effects).
    /// </summary>
    public void Update(Func<LinkFaults, LinkFaults> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        while (true)
        {
            var current = Volatile.Read(ref _faults);
            var next = change(current) ?? throw new InvalidOperationException("a fault change returned null");
            CheckLimits(next);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _faults, next, current), current))
            {
                if (next != current)
                {
                    Counters.OnFaultChange();
                }

                return;
            }
        }
    }

    /// <summary>
    /// Delays every chunk in <paramref name="directions"/> by <paramref name="latency"/> plus up to
    /// <paramref name="jitter"/>. Order within a connection is kept, and each direction waits on its
    /// own, so a slow direction never holds the other up. Zero and zero removes the delay.
    /// </summary>
    public void SetLatency(TimeSpan latency, TimeSpan jitter = default, FaultDirections directions = FaultDirections.Both) =>
        Update(faults => faults.With(directions, direction => direction with { Latency = latency, Jitter = jitter }));

    /// <summary>
    /// A silent partition: bytes in <paramref name="directions"/> are read and dropped, on open and
    /// new connections, and the connections stay up — the peer sees a timeout, never a reset. A FIN
    /// that arrives meanwhile is dropped too. Bytes dropped are gone for good (unlike real TCP, which
    /// would retransmit after the network healed), so a framed protocol must drop its connection
    /// after a timeout, as it would anyway.
    /// </summary>
    public void Blackhole(FaultDirections directions = FaultDirections.Both) =>
        Update(faults => faults.With(directions, direction => direction with { Blackholed = true }));

    /// <summary>Ends the blackhole in <paramref name="directions"/>; later bytes pass again.</summary>
    public void Unblackhole(FaultDirections directions = FaultDirections.Both) =>
        Update(faults => faults.With(directions, direction => direction with { Blackholed = false }));

    /// <summary>
    /// New connections are reset as soon as they are accepted; open ones carry on. The kernel
    /// completes the handshake before the proxy sees it, so the client sees
    /// <see cref="SocketError.ConnectionReset"/> either from its connect or from its first read or
    /// write — not <see cref="SocketError.ConnectionRefused"/>.
    /// </summary>
    public void Refuse() => Update(faults => faults with { Refusing = true });

    /// <summary>Resets every open connection now (RST to both sides, no FIN). New connections are not affected.</summary>
    /// <returns>How many connections were reset.</returns>
    public int Reset()
    {
        var reset = 0;
        foreach (var connection in _connections.Values)
        {
            if (connection.Abort())
            {
                Counters.OnReset();
                reset++;
            }
        }

        Counters.OnFaultChange();
        return reset;
    }

    /// <summary>
    /// A hard partition, as a firewall REJECT or a host that is down: <see cref="Refuse"/> new
    /// connections and <see cref="Reset"/> open ones, so both sides see errors at once. For a
    /// partition where TCP stays up and peers must time out, use <see cref="Blackhole"/>.
    /// </summary>
    public void Partition()
    {
        // Refusing first: a connection accepted meanwhile is either registered before the reset
        // walks the registry or sees the refusal after registering (see AcceptLoopAsync).
        Refuse();
        Reset();
    }

    /// <summary>Removes every fault: no latency, no blackhole, no refusal. Connections cut before stay cut.</summary>
    public void Heal() => Update(_ => LinkFaults.None);

    internal TimeSpan SampleDelay(DirectionFaults faults)
    {
        if (faults.Jitter <= TimeSpan.Zero)
        {
            return faults.Latency;
        }

        double fraction;
        lock (_jitterGate)
        {
            fraction = _jitterRandom.NextDouble();
        }

        return faults.Latency + TimeSpan.FromTicks((long)(fraction * faults.Jitter.Ticks));
    }

    private static void CheckLimits(LinkFaults faults)
    {
        foreach (var direction in new[] { faults.Upstream, faults.Downstream })
        {
            if (direction.Latency < TimeSpan.Zero || direction.Latency > LatencyMax || direction.Jitter < TimeSpan.Zero || direction.Jitter > LatencyMax)
            {
                throw new ArgumentOutOfRangeException(nameof(faults), $"latency {direction.Latency} and jitter {direction.Jitter} must lie within 0–{LatencyMax}");
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && _stopping.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException)
            {
                continue; // The client gave up before the accept completed.
            }

            Admit(socket);
        }
    }

    private void Admit(Socket socket)
    {
        Counters.OnAccepted();
        if (_connections.Count >= _options.ConnectionsMax)
        {
            Counters.OnOverLimit();
            ProxiedConnection.AbortSocket(socket);
            return;
        }

        var id = Interlocked.Increment(ref _nextConnectionId);
        var connection = new ProxiedConnection(this, socket);
        _connections[id] = connection;

        // Registered before the refusal is read: Partition sets the refusal before it walks the
        // registry, so no connection slips between the two.
        if (Faults.Refusing)
        {
            Counters.OnRefused();
            connection.Abort();
            connection.Dispose();
            _connections.TryRemove(id, out _);
            return;
        }

        Counters.OnOpened();
        connection.Start(() =>
        {
            _connections.TryRemove(id, out _);
            Counters.OnClosed();
        });
    }

    /// <summary>Stops listening and resets every open connection; the port is free once this returns.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        var open = _connections.Values.ToArray();
        foreach (var connection in open)
        {
            connection.Abort();
        }

        await Task.WhenAll(open.Select(connection => connection.Completion));
        _stopping.Dispose();
    }
}
