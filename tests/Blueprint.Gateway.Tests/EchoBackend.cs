using Blueprint.Gateway.Tests.Protos;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Gateway.Tests;

/// <summary>The gRPC echo service (Protos/echo.proto) on a loopback port speaking cleartext HTTP/2 only, as gRPC backends do.</summary>
internal sealed class EchoBackend : Echo.EchoBase
{
    /// <summary>The name the backend puts before every answer.</summary>
    public const string Name = "echo";

    /// <summary>Starts the service.</summary>
    public static Task<LoopbackApp> StartAsync() =>
        LoopbackApp.StartAsync(HttpProtocols.Http2, services => services.AddGrpc(), app => app.MapGrpcService<EchoBackend>());

    public override Task<SayReply> Say(SayRequest request, ServerCallContext context) => Task.FromResult(new SayReply
    {
        Text = $"{Name}: {request.Text}",
        Tenant = context.RequestHeaders.GetValue("x-tenant") ?? "",
        Blob = Google.Protobuf.ByteString.CopyFrom(context.RequestHeaders.GetValueBytes("x-blob-bin") ?? []),
        Protocol = context.GetHttpContext().Request.Protocol,
    });

    public override async Task Count(CountRequest request, IServerStreamWriter<SayReply> responseStream, ServerCallContext context)
    {
        for (var i = 1; i <= request.Count; i++)
        {
            await responseStream.WriteAsync(new SayReply { Text = $"{i}" }, context.CancellationToken);
        }

        if (request.FailDetail.Length > 0)
        {
            throw new RpcException(new Status(StatusCode.Aborted, request.FailDetail), new Metadata { { "x-reason", "after the stream" } });
        }
    }

    public override Task<SayReply> Fail(FailRequest request, ServerCallContext context) =>
        throw new RpcException(new Status((StatusCode)request.Code, request.Detail), new Metadata { { "x-reason", request.Reason } });

    public override async Task Chat(IAsyncStreamReader<SayRequest> requestStream, IServerStreamWriter<SayReply> responseStream, ServerCallContext context)
    {
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new SayReply { Text = $"{Name}: {message.Text}" }, context.CancellationToken);
        }
    }
}
