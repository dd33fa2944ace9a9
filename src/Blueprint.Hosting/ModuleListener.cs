using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace Blueprint.Hosting;

/// <summary>What speaks on a <see cref="ModuleListener"/>, which decides how the node opens it.</summary>
public enum ListenerProtocol
{
    /// <summary>HTTP/1.1 only (CONNECT and absolute-form requests are HTTP/1.1's).</summary>
    Http1,

    /// <summary>HTTP/2 without TLS (prior knowledge): gRPC services.</summary>
    H2c,

    /// <summary>HTTP/1.1 and HTTP/2 without TLS, as the node's own HTTP port.</summary>
    Http1AndHttp2,

    /// <summary>TLS, with HTTP/1.1 and HTTP/2 chosen by ALPN; the certificate comes from <see cref="ModuleListener.Certificate"/>.</summary>
    Tls,

    /// <summary>A raw TCP protocol served by <see cref="ModuleListener.ConnectionHandler"/> on Kestrel's transport.</summary>
    Tcp,

    /// <summary>
    /// Bound by the module's own server, not by the node (the embedded Garnet binds its RESP port). The node still
    /// checks the port before the start, prints it and makes its flag.
    /// </summary>
    ModuleBound,
}

/// <summary>
/// A port a module listens on, declared once: the node opens it (unless <see cref="ListenerProtocol.ModuleBound"/>),
/// checks it for clashes and availability before anything starts, prints it in the banner, makes its
/// <c>blueprint run</c> flag, and test nodes give it a free port. Modules never bind listeners by hand.
/// </summary>
public sealed record ModuleListener
{
    /// <summary>What speaks there, as named in messages, for example <c>RESP</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The configuration key holding the port, for example <c>Kv:Port</c>; the module's options bind the same key.</summary>
    public required string ConfigKey { get; init; }

    /// <summary>The port when the key is not set.</summary>
    public required int DefaultPort { get; init; }

    /// <summary>How the node opens it.</summary>
    public required ListenerProtocol Protocol { get; init; }

    /// <summary>The <c>blueprint run</c> flag that sets the port, for example <c>--resp-port</c>; null for configuration only.</summary>
    public string? Flag { get; init; }

    /// <summary>One sentence for the flag's help, without the default (added from <see cref="DefaultPort"/>).</summary>
    public string Description { get; init; } = "";

    /// <summary>Whether port 0 turns the listener off (an optional port) rather than asking for any free port.</summary>
    public bool OffWhenZero { get; init; }

    /// <summary>The banner's name for it when it differs from <see cref="Name"/>, for example <c>RESP (embedded Garnet)</c>.</summary>
    public string? Title { get; init; }

    /// <summary>The URL scheme of its address in the banner, for example <c>redis</c>.</summary>
    public string Scheme { get; init; } = "http";

    /// <summary>A command or path that shows it working, for the banner; given the client host and the port.</summary>
    public Func<IServiceProvider, string, int, string>? Hint { get; init; }

    /// <summary>Whether it opens at all in this configuration (the KV's port is not opened when an external Redis is used); null means always.</summary>
    public Func<IServiceProvider, bool>? When { get; init; }

    /// <summary>The TLS certificate of a <see cref="ListenerProtocol.Tls"/> listener.</summary>
    public Func<IServiceProvider, X509Certificate2>? Certificate { get; init; }

    /// <summary>The handler of each connection of a <see cref="ListenerProtocol.Tcp"/> listener.</summary>
    public Func<IServiceProvider, ConnectionHandler>? ConnectionHandler { get; init; }

    /// <summary>Connection middleware in front of the protocol (the forward proxy's CONNECT handling); rarely needed.</summary>
    public Action<ListenOptions, IServiceProvider>? Configure { get; init; }

    /// <summary>What a message tells the user to change: the flag, or the configuration key when there is none.</summary>
    public string Setting => Flag ?? ConfigKey;

    /// <summary>
    /// The configured port: the key's value when it is a whole number from 0 to 65535, <see cref="DefaultPort"/> when the
    /// key is not set, null when the value is not a port (the node's preflight reports it, naming the key and the flag).
    /// </summary>
    public int? ConfiguredPort(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[ConfigKey];
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultPort;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65_535 ? port : null;
    }
}

/// <summary>A listener the node opened (or, for a module-bound one, checked), with its port.</summary>
/// <param name="Module">The module's name, or <c>http</c> for the node's own HTTP port.</param>
/// <param name="Listener">The declaration.</param>
/// <param name="Port">The configured port; 0 asks for any free one.</param>
public sealed record ActiveListener(string Module, ModuleListener Listener, int Port);

/// <summary>A <c>blueprint run</c> flag that sets one configuration key of a module (not a port: those come from listeners).</summary>
/// <param name="Flag">The flag, for example <c>--node-id</c>.</param>
/// <param name="ConfigKey">The key it sets, for example <c>Coordination:NodeId</c>.</param>
/// <param name="Description">One sentence for the help.</param>
/// <param name="IsPort">Whether the value is a port (a listener's flag), parsed as a number.</param>
public sealed record ModuleFlag(string Flag, string ConfigKey, string Description, bool IsPort = false);
