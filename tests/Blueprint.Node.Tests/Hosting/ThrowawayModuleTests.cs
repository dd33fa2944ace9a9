using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Node.Tests.Hosting;

/// <summary>
/// The module contract end to end: a module that exists only here, with a raw TCP listener and an HTTP endpoint, added
/// to the build's catalog by one line, gets its flag, its banner line, its preflight and its test port from its
/// declaration alone.
/// </summary>
public sealed class ThrowawayModuleTests
{
    private static readonly ModuleCatalog Catalog = new(
        [.. BlueprintCatalog.Create().Modules, new EchoModule()], // the one catalog line
        BlueprintCatalog.Create().Tools);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task RunHelp_ListsTheModulesListenerFlagWithItsDefault()
    {
        var (exit, output, _) = await RunCliAsync(["run", "--help"]);
        Assert.Equal(0, exit);
        Assert.Contains("--echo-port", output, StringComparison.Ordinal);
        Assert.Contains("TCP echo port of the echo module (default 7007)", output, StringComparison.Ordinal);
        Assert.Contains("--resp-port", output, StringComparison.Ordinal); // the build's own modules keep theirs
    }

    [Fact]
    public async Task Node_OpensTheRawTcpListenerMapsTheEndpointAndPrintsTheBannerLine()
    {
        await using var node = await TestNode.StartAsync(Catalog, null, new Dictionary<string, string?> { ["Node:Modules"] = "echo" }, null, Cancel);
        var port = node.PortOf(EchoModule.PortKey);
        Assert.NotEqual(7007, port); // the test node gave the declared listener a free port

        // The raw TCP protocol on its own listener.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port, Cancel);
            var stream = client.GetStream();
            await stream.WriteAsync("ping\n"u8.ToArray(), Cancel);
            var buffer = new byte[5];
            await stream.ReadExactlyAsync(buffer, Cancel);
            Assert.Equal("ping\n", System.Text.Encoding.ASCII.GetString(buffer));
        }

        // The HTTP endpoint on the node's HTTP port.
        Assert.Equal("echo: hello", await node.Http.GetStringAsync(new Uri("/echo/hello", UriKind.Relative), Cancel));

        using var banner = new StringWriter();
        NodeBanner.Write(banner, node.Node);
        Assert.Contains($"  echo       Echo (raw TCP): tcp://127.0.0.1:{Text(port)}   (nc 127.0.0.1 {Text(port)})", banner.ToString(), StringComparison.Ordinal);
        Assert.Contains("  echo       Echo over HTTP: GET /echo/{text}", banner.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ListenerOnTheHttpPort_ExitsTwoNamingBothFlags()
    {
        var port = FreePorts.Next();
        using var data = new TempDirectory();
        var (exit, _, error) = await RunCliAsync(["run", "--modules", "echo", "--data-dir", data.Path, "--http-port", Text(port), "--echo-port", Text(port)]);
        Assert.Equal(2, exit);
        Assert.Contains($"blueprint: port {Text(port)} is configured for both HTTP (--http-port) and Echo (--echo-port); give each its own", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ListenerPortInUse_ExitsTwoNamingItsFlag()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var busy = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var data = new TempDirectory();
        var (exit, _, error) = await RunCliAsync(["run", "--modules", "echo", "--data-dir", data.Path, "--http-port", Text(FreePorts.Next()), "--echo-port", Text(busy)]);
        Assert.Equal(2, exit);
        Assert.Contains($"blueprint: Echo port {Text(busy)} on 127.0.0.1 is already in use; choose another with --echo-port <port>", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ListenerPortThatIsNoPort_ExitsTwoNamingKeyValueAndFlag()
    {
        // The echo module validates nothing of its own: the node checks the port its listener declares.
        using var data = new TempDirectory();
        var (exit, _, error) = await RunCliAsync(["run", "--modules", "echo", "--data-dir", data.Path, "--http-port", Text(FreePorts.Next()), "--echo-port", "70000"]);
        Assert.Equal(2, exit);
        Assert.Contains("blueprint: Echo:Port = '70000': must be a port from 0 to 65535 (0 picks a free one) (flag --echo-port)", error, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> RunCliAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await NodeCli.RunAsync(args, Catalog, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A module written only for this test: TCP echo on its own port, and an HTTP echo endpoint.</summary>
    private sealed class EchoModule : IBlueprintModule
    {
        public const string PortKey = "Echo:Port";

        public string Name => "echo";

        public string Description => "Echoes what it is sent.";

        public IReadOnlyList<string> CheatSheetRows { get; } = [];

        public IReadOnlyList<ModuleListener> Listeners { get; } =
        [
            new()
            {
                Name = "Echo",
                Title = "Echo (raw TCP)",
                ConfigKey = PortKey,
                DefaultPort = 7007,
                Protocol = ListenerProtocol.Tcp,
                Flag = "--echo-port",
                Description = "TCP echo port of the echo module",
                Scheme = "tcp",
                Hint = (_, host, port) => $"nc {host} {port.ToString(CultureInfo.InvariantCulture)}",
                ConnectionHandler = _ => new EchoHandler(),
            },
        ];

        public void AddServices(IHostApplicationBuilder builder)
        {
        }

        public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
            endpoints.MapGet("/echo/{text}", (string text) => Results.Text($"echo: {text}"));

        public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services) =>
            [new ModuleEndpoint("Echo over HTTP", "GET /echo/{text}")];
    }

    private sealed class EchoHandler : ConnectionHandler
    {
        public override async Task OnConnectedAsync(ConnectionContext connection)
        {
            while (true)
            {
                var read = await connection.Transport.Input.ReadAsync();
                foreach (var segment in read.Buffer)
                {
                    await connection.Transport.Output.WriteAsync(segment);
                }

                connection.Transport.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
    }
}
