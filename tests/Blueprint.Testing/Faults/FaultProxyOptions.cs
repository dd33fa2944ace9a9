namespace Blueprint.Testing.Faults;

/// <summary>How a <see cref="FaultProxy"/> starts. Checked by <see cref="FaultProxy.Start"/>, every problem at once.</summary>
public sealed class FaultProxyOptions
{
    /// <summary>The default of <see cref="ConnectionsMax"/>.</summary>
    public const int ConnectionsMaxDefault = 128;

    /// <summary>The largest <see cref="ConnectionsMax"/> accepted.</summary>
    public const int ConnectionsMaxLimit = 1024;

    /// <summary>The seed of the jitter generator when none is passed in.</summary>
    public const int JitterSeedDefault = 20_240_601;

    /// <summary>The loopback port to listen on.</summary>
    /// <value>0 (default) lets the OS choose; read it back from <see cref="FaultProxy.Port"/>. Range 0–65535.</value>
    public int ListenPort { get; init; }

    /// <summary>Connections forwarded at once; one more is accepted and reset at once (counted in <see cref="LinkCounters.ConnectionsOverLimit"/>).</summary>
    /// <value>Default <see cref="ConnectionsMaxDefault"/>; range 1–<see cref="ConnectionsMaxLimit"/>.</value>
    public int ConnectionsMax { get; init; } = ConnectionsMaxDefault;

    /// <summary>How long the proxy waits for the upstream to accept; then the client is reset.</summary>
    /// <value>Default 5 s; range 1 ms–1 min.</value>
    public TimeSpan UpstreamConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The generator jitter is drawn from, so a failing run can be replayed from its seed. The proxy locks around it.</summary>
    /// <value>Default: a generator seeded with <see cref="JitterSeedDefault"/>.</value>
    public Random? JitterRandom { get; init; }

    /// <summary>The clock latency is measured and waited on.</summary>
    /// <value>Default <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        List<string> problems = [];
        if (ListenPort is < 0 or > 65_535)
        {
            problems.Add($"ListenPort {ListenPort} is outside 0–65535");
        }

        if (ConnectionsMax is < 1 or > ConnectionsMaxLimit)
        {
            problems.Add($"ConnectionsMax {ConnectionsMax} is outside 1–{ConnectionsMaxLimit}");
        }

        if (UpstreamConnectTimeout < TimeSpan.FromMilliseconds(1) || UpstreamConnectTimeout > TimeSpan.FromMinutes(1))
        {
            problems.Add($"UpstreamConnectTimeout {UpstreamConnectTimeout} is outside 1 ms–1 min");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider is null");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid fault proxy options: {string.Join("; ", problems)}");
        }
    }
}
