using System.Net;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Blueprint.Gateway.Forward;

/// <summary>
/// The forward proxy — the "proxy" half of "proxy vs reverse proxy": the client names the
/// destination (RFC 9112 §3.2.2 absolute-form, or RFC 9110 §9.3.6 CONNECT) and the proxy reaches it
/// on the client's behalf, only when the allowlist lets it. Absolute-form requests go through YARP's
/// <see cref="IHttpForwarder"/> (<c>ForwardProxyServer.Http.cs</c>); CONNECT tunnels are served below
/// Kestrel's HTTP layer (<c>ForwardProxyServer.Connect.cs</c>).
/// </summary>
internal sealed partial class ForwardProxyServer : IDisposable
{
    private readonly ForwardProxyOptions _options;
    private readonly Allowlist _allowlist;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _invoker;
    private readonly TimeProvider _time;
    private readonly ILogger<ForwardProxyServer> _logger;

    public ForwardProxyServer(ForwardProxyOptions options, IHttpForwarder forwarder, TimeProvider time, ILogger<ForwardProxyServer> logger)
    {
        _options = options;
        _allowlist = new Allowlist(options.Allow);
        _forwarder = forwarder;
        _time = time;
        _logger = logger;
        // One pooled client for every destination, as YARP advises; redirects and cookies belong to the client.
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = ConnectTimeout,
            PooledConnectionIdleTimeout = IdleTimeout,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
        }, disposeHandler: true);
    }

    private TimeSpan ConnectTimeout => TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds);

    private TimeSpan IdleTimeout => TimeSpan.FromSeconds(_options.IdleTimeoutSeconds);

    /// <inheritdoc />
    public void Dispose() => _invoker.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Forward proxy refused {Method} {Target}: {Reason}")]
    private partial void LogRefused(string method, string target, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forward proxy tunnel to {Destination} closed after {UpBytes} bytes up, {DownBytes} down")]
    private partial void LogTunnelClosed(string destination, long upBytes, long downBytes);
}

/// <summary>Marks a connection accepted on the forward-proxy listener, so the HTTP pipeline sends its requests to the forward proxy.</summary>
internal sealed class ForwardProxyConnectionFeature
{
    public static readonly ForwardProxyConnectionFeature Instance = new();

    private ForwardProxyConnectionFeature()
    {
    }
}
