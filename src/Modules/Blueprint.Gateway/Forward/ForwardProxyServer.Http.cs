using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Blueprint.Gateway.Forward;

/// <summary>Absolute-form requests (<c>GET http://host:port/path HTTP/1.1</c>, RFC 9112 §3.2.2), forwarded by YARP.</summary>
internal sealed partial class ForwardProxyServer
{
    /// <summary>This proxy's entry in <c>Via</c>.</summary>
    private const string Via = "1.1 blueprint";

    private static readonly Transformer RequestTransformer = new();

    /// <summary>Serves one request that arrived on the forward-proxy listener.</summary>
    public async Task HandleHttpAsync(HttpContext context)
    {
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        if (HttpMethods.IsConnect(context.Request.Method))
        {
            // Kestrel parsed it: this CONNECT followed another request on a kept-alive connection.
            context.Response.Headers.Connection = "close";
            await RefuseAsync(context, target, StatusCodes.Status400BadRequest, "CONNECT must be the first request on its connection");
            return;
        }

        if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || !target.Contains("://", StringComparison.Ordinal))
        {
            await RefuseAsync(context, target, StatusCodes.Status400BadRequest,
                $"'{target}' is not absolute-form: this port is a forward proxy; send http://host:port/path (curl -x), or CONNECT host:port");
            return;
        }

        if (uri.Scheme != Uri.UriSchemeHttp)
        {
            await RefuseAsync(context, target, StatusCodes.Status400BadRequest, $"the forward proxy forwards http:// only; open a tunnel with CONNECT for {uri.Scheme}://");
            return;
        }

        if (Destination.TryParseUri(uri, out var destination) is { } invalid)
        {
            await RefuseAsync(context, target, StatusCodes.Status400BadRequest, $"the destination {invalid}");
            return;
        }

        if (_allowlist.Refusal(destination) is { } refusal)
        {
            await RefuseAsync(context, target, StatusCodes.Status403Forbidden, refusal);
            return;
        }

        var error = await _forwarder.SendAsync(context, $"http://{destination.Authority}", _invoker,
            new ForwarderRequestConfig { ActivityTimeout = IdleTimeout }, RequestTransformer);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            var exception = context.GetForwarderErrorFeature()?.Exception;
            var timedOut = error == ForwarderError.RequestTimedOut || HasInner<TimeoutException>(exception);
            await RefuseAsync(context, target, timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway, timedOut
                ? $"{destination.Authority} did not answer within {(error == ForwarderError.RequestTimedOut ? IdleTimeout : ConnectTimeout).TotalSeconds} s"
                : $"{destination.Authority} cannot be reached ({exception?.GetBaseException().Message ?? error.ToString()})");
        }
    }

    private async Task RefuseAsync(HttpContext context, string target, int status, string detail)
    {
        LogRefused(context.Request.Method, target, detail);
        await Results.Problem(detail: detail, statusCode: status).ExecuteAsync(context);
    }

    private static bool HasInner<TException>(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// YARP's default request copy (which already drops the hop-by-hop headers it knows), minus every
    /// <c>Proxy-*</c> header and every header the client's <c>Connection</c> names (RFC 9110 §7.6.1),
    /// plus this proxy in <c>Via</c> (RFC 9110 §7.6.3). The destination gets origin-form, so a request
    /// addressed to this proxy itself ends after one hop (400), never looping.
    /// </summary>
    private sealed class Transformer : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            var named = httpContext.Request.Headers.Connection
                .SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            var drop = proxyRequest.Headers.Select(header => header.Key)
                .Concat(proxyRequest.Content?.Headers.Select(header => header.Key) ?? [])
                .Where(name => name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase))
                .Concat(named)
                .ToList();
            foreach (var name in drop)
            {
                proxyRequest.Headers.Remove(name);
                proxyRequest.Content?.Headers.Remove(name);
            }

            proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Via, Via);
        }
    }
}
