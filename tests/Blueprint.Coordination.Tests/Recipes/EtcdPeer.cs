using System.Globalization;
using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Blueprint.Coordination.Tests.Recipes;

/// <summary>
/// A real single-member etcd on free loopback ports with its own data directory, stopped by its
/// PID on dispose. Skips the test when etcd is not installed (fails in CI).
/// </summary>
public sealed class EtcdPeer : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    private readonly ProcessRunner _process;
    private readonly TempDirectory _directory;

    private EtcdPeer(ProcessRunner process, TempDirectory directory, int clientPort)
    {
        _process = process;
        _directory = directory;
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{clientPort.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>An h2c channel to the client port.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>What etcd printed so far, for failure messages.</summary>
    public string Output => _process.StandardOutput + _process.StandardError;

    /// <summary>Starts etcd and returns once it answers a read.</summary>
    public static async Task<EtcdPeer> StartAsync()
    {
        var binary = Peers.Require("etcd", "etcd-server");
        var directory = new TempDirectory("blueprint-etcd");
        var client = $"http://127.0.0.1:{FreePorts.Next().ToString(CultureInfo.InvariantCulture)}";
        var peer = $"http://127.0.0.1:{FreePorts.Next().ToString(CultureInfo.InvariantCulture)}";
        var process = ProcessRunner.Start(binary,
        [
            "--name", "n1",
            "--data-dir", Path.Combine(directory.Path, "data"),
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"n1={peer}",
        ]);
        var started = new EtcdPeer(process, directory, new Uri(client).Port);
        try
        {
            await process.WaitForLineAsync(line => line.Contains("ready to serve client requests", StringComparison.Ordinal), StartDeadline);
            await new KV.KVClient(started.Channel).RangeAsync(
                new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("ping") },
                new CallOptions(deadline: DateTime.UtcNow + StartDeadline).WithWaitForReady());
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        return started;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _process.DisposeAsync();
        _directory.Dispose();
    }
}
