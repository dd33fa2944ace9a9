using System.ComponentModel.DataAnnotations;

namespace Blueprint.Gateway.Forward;

/// <summary>
/// The forward proxy (<c>Gateway:ForwardProxy</c>): a listener of its own that forwards
/// absolute-form requests (<c>GET http://host/path</c>) and opens CONNECT tunnels, only to the
/// destinations on <see cref="Allow"/>. Off by default.
/// </summary>
public sealed class ForwardProxyOptions
{
    /// <summary>The default <see cref="ConnectPorts"/>: HTTPS only.</summary>
    public static readonly IReadOnlyList<int> DefaultConnectPorts = [443];

    /// <summary>
    /// The forward proxy's own port, so that reverse-proxy and forward-proxy traffic never share a
    /// listener. <value>1–65535, or 0 (the default) for no forward proxy.</value>
    /// </summary>
    public int Port { get; set; }

    /// <summary>
    /// The destinations the proxy may reach: <c>host</c> (any port), <c>host:port</c>,
    /// <c>*.example.com</c> (names below example.com, not example.com itself), an IP address
    /// (<c>127.0.0.1</c>, <c>::1</c>, optionally with <c>:port</c>, IPv6 as <c>[::1]:port</c>) or a CIDR
    /// range (<c>127.0.0.0/8</c>). Names match names and addresses match addresses: a name is never
    /// resolved to decide. <value>Empty (the default) refuses every destination.</value>
    /// </summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>
    /// The ports CONNECT may reach, in addition to the allowlist. <value>Unset (null) means
    /// <see cref="DefaultConnectPorts"/> (443); each entry 1–65535.</value>
    /// </summary>
    public List<int>? ConnectPorts { get; set; }

    /// <summary>How long resolving and connecting to a destination may take before the client gets 504. <value>1–300 seconds; default 10.</value></summary>
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>How long a tunnel or a forwarded request may go without a byte in either direction before it is closed. <value>1–3600 seconds; default 300.</value></summary>
    public int IdleTimeoutSeconds { get; set; } = 300;

    /// <summary>The buffer each tunnel reads its destination into (the client side is bounded by Kestrel's request buffer). <value>1024–1048576 bytes; default 16384.</value></summary>
    public int TunnelBufferBytes { get; set; } = 16 * 1024;

    /// <summary>Tunnels open at once; one more is answered 503. <value>1–100000; default 1000.</value></summary>
    public int TunnelsMax { get; set; } = 1000;

    /// <summary>Whether the forward proxy is on.</summary>
    public bool IsEnabled => Port != 0;

    /// <summary>The ports CONNECT may reach, with the default applied.</summary>
    internal IReadOnlyList<int> EffectiveConnectPorts => ConnectPorts is { Count: > 0 } ports ? ports : DefaultConnectPorts;

    /// <summary>Every problem with these options, each naming its key under <paramref name="prefix"/>.</summary>
    internal IEnumerable<ValidationResult> Validate(string prefix)
    {
        if (Port is < 0 or > 65535)
        {
            yield return new ValidationResult("must be a port from 1 to 65535, or 0 for none", [$"{prefix}:{nameof(Port)}"]);
        }

        for (var i = 0; i < Allow.Count; i++)
        {
            if (AllowRule.TryParse(Allow[i], out _) is { } reason)
            {
                yield return new ValidationResult($"'{Allow[i]}' {reason}", [$"{prefix}:{nameof(Allow)}:{i}"]);
            }
        }

        for (var i = 0; i < (ConnectPorts?.Count ?? 0); i++)
        {
            if (ConnectPorts![i] is < 1 or > 65535)
            {
                yield return new ValidationResult($"{ConnectPorts[i]} is not a port from 1 to 65535", [$"{prefix}:{nameof(ConnectPorts)}:{i}"]);
            }
        }

        if (ConnectTimeoutSeconds is < 1 or > 300)
        {
            yield return new ValidationResult("must be from 1 to 300 seconds", [$"{prefix}:{nameof(ConnectTimeoutSeconds)}"]);
        }

        if (IdleTimeoutSeconds is < 1 or > 3600)
        {
            yield return new ValidationResult("must be from 1 to 3600 seconds", [$"{prefix}:{nameof(IdleTimeoutSeconds)}"]);
        }

        if (TunnelBufferBytes is < 1024 or > 1024 * 1024)
        {
            yield return new ValidationResult("must be from 1024 to 1048576 bytes", [$"{prefix}:{nameof(TunnelBufferBytes)}"]);
        }

        if (TunnelsMax is < 1 or > 100_000)
        {
            yield return new ValidationResult("must be from 1 to 100000", [$"{prefix}:{nameof(TunnelsMax)}"]);
        }
    }
}
