namespace Blueprint.Testing.Faults;

/// <summary>
/// The ways bytes flow through a proxied connection. The client is whoever dialed the proxy; the
/// upstream is the endpoint the proxy forwards to.
/// </summary>
[Flags]
public enum FaultDirections
{
    /// <summary>No direction.</summary>
    None = 0,

    /// <summary>From the client that dialed the proxy to the upstream endpoint (requests).</summary>
    Upstream = 1,

    /// <summary>From the upstream endpoint back to the client (replies).</summary>
    Downstream = 2,

    /// <summary>Both directions.</summary>
    Both = Upstream | Downstream,
}
