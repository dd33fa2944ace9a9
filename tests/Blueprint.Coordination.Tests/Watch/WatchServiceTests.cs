using System.Net;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Blueprint.Coordination.Watch;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Watch;

/// <summary>The Watch service through a real Kestrel host on a free loopback port and a real gRPC client.</summary>
public sealed class WatchServiceTests
{
    [Fact]
    public async Task Watch_OverGrpc_CreatesReplaysStreamsAndCancels()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var store = new MvccStore();
        store.Ok(Put("a", "old")); // 2
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IResponseHeaderSource>(new TestHeaders());
        builder.Services.AddSingleton(new WatchOptions());
        builder.Services.AddSingleton(TimeProvider.System);
        await using var app = builder.Build();
        app.MapGrpcService<WatchService>();
        await app.StartAsync(cancellationToken);
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var channel = GrpcChannel.ForAddress(address);
            var client = new Etcd.Rpc.Watch.WatchClient(channel);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(20));
            using var call = client.Watch(cancellationToken: deadline.Token);

            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("a"), StartRevision = 2, PrevKv = true } }, deadline.Token);
            var created = await Next(call, deadline.Token);
            Assert.Equal((true, 0L, 2L, 7UL), (created.Created, created.WatchId, created.Header.Revision, created.Header.ClusterId));
            Assert.Equal(["PUT a=old@2"], SessionHarness.Describe(await Next(call, deadline.Token)));

            store.Ok(Put("a", "new")); // 3
            var live = await Next(call, deadline.Token);
            Assert.Equal(["PUT a=new@3"], SessionHarness.Describe(live));
            Assert.Equal("old", S(live.Events[0].PrevKv.Value));

            await call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 0 } }, deadline.Token);
            var canceled = await Next(call, deadline.Token);
            Assert.Equal((0L, true), (canceled.WatchId, canceled.Canceled));

            await call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, deadline.Token);
            var progress = await Next(call, deadline.Token);
            Assert.Equal((-1L, 3L), (progress.WatchId, progress.Header.Revision));
        }
        finally
        {
            await app.StopAsync(cancellationToken);
        }
    }

    private static async Task<WatchResponse> Next(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, CancellationToken cancellationToken)
    {
        Assert.True(await call.ResponseStream.MoveNext(cancellationToken), "the watch stream ended early");
        return call.ResponseStream.Current;
    }
}
