using System.IO.Compression;
using Blueprint.Hosting;
using Blueprint.Telemetry.Otlp.Collector.Metrics;
using Blueprint.Telemetry.Otlp.Collector.Trace;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.Telemetry.Otlp;

/// <summary>
/// OTLP/HTTP (<c>POST /v1/traces</c>, <c>POST /v1/metrics</c>) on the OTLP HTTP port: binary protobuf
/// (<c>application/x-protobuf</c>) or JSON (<c>application/json</c>), optionally gzip-compressed. The reply is in the
/// request's encoding; a failure is 400 (undecodable), 413 (too large) or 415 (another media type), each with a
/// <c>google.rpc.Status</c> body, as the OTLP specification says.
/// </summary>
internal static class OtlpHttp
{
    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";

    public static void Map(IEndpointRouteBuilder endpoints, int port)
    {
        endpoints.MapPost("/v1/traces", (HttpContext context, OtlpReceiver receiver) =>
            HandleAsync(context, ExportTraceServiceRequest.Parser, request => receiver.Accept(request, "otlp_http")))
            .RequireLocalPort(port).ExcludeFromDescription();
        endpoints.MapPost("/v1/metrics", (HttpContext context, OtlpReceiver receiver) =>
            HandleAsync(context, ExportMetricsServiceRequest.Parser, receiver.Accept))
            .RequireLocalPort(port).ExcludeFromDescription();
    }

    private static async Task HandleAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser, Func<TRequest, IMessage> accept)
        where TRequest : IMessage<TRequest>, new()
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<TelemetryOptions>>().Value.MaxRequestBytes;
        var mediaType = context.Request.ContentType?.Split(';', 2)[0].Trim().ToLowerInvariant();
        var json = mediaType == Json;
        if (!json && mediaType != Protobuf)
        {
            await FailAsync(context, StatusCodes.Status415UnsupportedMediaType, json: false,
                $"Content-Type must be {Protobuf} or {Json}, not '{context.Request.ContentType}'").ConfigureAwait(false);
            return;
        }

        if (context.Request.ContentLength > limit)
        {
            await FailAsync(context, StatusCodes.Status413PayloadTooLarge, json, TooLarge(limit)).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        byte[] body;
        try
        {
            body = await ReadAsync(context.Request, limit, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BodyTooLargeException)
        {
            await FailAsync(context, StatusCodes.Status413PayloadTooLarge, json, TooLarge(limit)).ConfigureAwait(false);
            return;
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await FailAsync(context, StatusCodes.Status413PayloadTooLarge, json, TooLarge(limit)).ConfigureAwait(false);
            return;
        }
        catch (InvalidDataException e)
        {
            await FailAsync(context, StatusCodes.Status400BadRequest, json, $"the gzip body is corrupt: {e.Message}").ConfigureAwait(false);
            return;
        }
        catch (NotSupportedException e)
        {
            await FailAsync(context, StatusCodes.Status415UnsupportedMediaType, json, e.Message).ConfigureAwait(false);
            return;
        }

        TRequest request;
        try
        {
            request = json ? OtlpJson.Parse<TRequest>(body) : parser.ParseFrom(body);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or OtlpFormatException)
        {
            await FailAsync(context, StatusCodes.Status400BadRequest, json, $"the body is not an OTLP {typeof(TRequest).Name}: {e.Message}").ConfigureAwait(false);
            return;
        }

        var response = accept(request);
        await WriteAsync(context, StatusCodes.Status200OK, json, response).ConfigureAwait(false);
    }

    private static string TooLarge(int limit) => $"the request is larger than Telemetry:MaxRequestBytes ({limit} bytes); send smaller batches";

    private static async Task<byte[]> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream source = encoding switch
        {
            "" or "identity" => request.Body,
            "gzip" => new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            _ => throw new NotSupportedException($"Content-Encoding '{encoding}' is not supported (use gzip or none)"),
        };
        await using (source.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await source.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new BodyTooLargeException();
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>A failure's <c>google.rpc.Status</c>: RESOURCE_EXHAUSTED (8) for a request too large, else INVALID_ARGUMENT (3).</summary>
    private static Task FailAsync(HttpContext context, int status, bool json, string message) =>
        WriteAsync(context, status, json, new Rpc.Status
        {
            Code = (int)(status == StatusCodes.Status413PayloadTooLarge ? Grpc.Core.StatusCode.ResourceExhausted : Grpc.Core.StatusCode.InvalidArgument),
            Message = message,
        });

    private static async Task WriteAsync(HttpContext context, int status, bool json, IMessage message)
    {
        context.Response.StatusCode = status;
        if (json)
        {
            context.Response.ContentType = Json;
            await context.Response.WriteAsync(OtlpJson.Format(message), context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            context.Response.ContentType = Protobuf;
            var bytes = message.ToByteArray();
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private sealed class BodyTooLargeException : Exception
    {
    }
}
