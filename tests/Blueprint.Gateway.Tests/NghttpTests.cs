using System.Text.RegularExpressions;

namespace Blueprint.Gateway.Tests;

/// <summary>nghttp (nghttp2-client) as a foreign HTTP/2 client of the gateway: cleartext with prior knowledge, and TLS by ALPN.</summary>
public sealed partial class NghttpTests
{
    [Fact]
    public async Task Nghttp_over_h2c_with_prior_knowledge_gets_the_backends_answer_on_an_HTTP2_stream()
    {
        var nghttp = Peers.Require("nghttp", "nghttp2-client");
        await using var backends = await Backends.StartAsync(1);
        var port = FreePorts.Next();
        await using var gateway = await OneRouteGateway.StartAsync("svc", backends.Addresses[0], new() { ["Gateway:H2cPort"] = $"{port}" });
        var output = await RunAsync(nghttp, $"http://127.0.0.1:{port}/svc/h2c?x=1");
        AssertAnswered(output, "b0 GET /svc/h2c?x=1");
    }

    [Fact]
    public async Task Nghttp_over_TLS_negotiates_h2_by_ALPN_and_gets_the_backends_answer()
    {
        var nghttp = Peers.Require("nghttp", "nghttp2-client");
        await using var backends = await Backends.StartAsync(1);
        using var directory = new TempDirectory("gateway-nghttp-tls");
        var port = FreePorts.Next();
        await using var gateway = await OneRouteGateway.StartAsync("svc", backends.Addresses[0], new() { ["Gateway:HttpsPort"] = $"{port}" }, directory.Path);
        var output = await RunAsync(nghttp, $"https://localhost:{port}/svc/tls");
        Assert.Contains("The negotiated protocol: h2\n", output, StringComparison.Ordinal);
        AssertAnswered(output, "b0 GET /svc/tls");
    }

    /// <summary>Runs <c>nghttp -v</c> on <paramref name="url"/> and returns what it printed: the frames, with the body among them.</summary>
    private static async Task<string> RunAsync(string nghttp, string url)
    {
        await using var process = ProcessRunner.Start(nghttp, ["-v", url]);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return process.StandardOutput;
    }

    /// <summary>
    /// The server's SETTINGS frame came (it speaks HTTP/2), the request's stream got <c>:status: 200</c>,
    /// then exactly <paramref name="body"/> in DATA frames on that stream (however the server splits
    /// them), the last one ending the stream, and no stream was reset.
    /// </summary>
    private static void AssertAnswered(string output, string body)
    {
        Assert.Matches(ServerSettings(), output);
        var request = RequestHeaders().Match(output);
        Assert.True(request.Success, output);
        var stream = request.Groups["stream"].Value;
        Assert.Matches(new Regex($@"\] recv \(stream_id={stream}\) :status: 200\n"), output);
        var frames = DataFrames().Matches(output);
        Assert.NotEmpty(frames);
        Assert.All(frames, frame => Assert.Equal(stream, frame.Groups["stream"].Value));
        Assert.Equal(body, string.Concat(frames.Select(frame => frame.Groups["chunk"].Value)));
        Assert.Equal(body.Length, frames.Sum(frame => int.Parse(frame.Groups["length"].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(1, Convert.ToInt32(frames[^1].Groups["flags"].Value, 16) & 0x01); // END_STREAM
        Assert.DoesNotContain("RST_STREAM", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\] recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>")]
    private static partial Regex ServerSettings();

    [GeneratedRegex(@"\] send HEADERS frame <length=\d+, flags=0x[0-9a-f]+, stream_id=(?<stream>\d+)>")]
    private static partial Regex RequestHeaders();

    /// <summary>nghttp prints each DATA frame's payload as it arrives, just before the frame's own line.</summary>
    [GeneratedRegex(@"(?<chunk>[^\n\[]*)\[\s*\d+\.\d+\] recv DATA frame <length=(?<length>\d+), flags=0x(?<flags>[0-9a-f]{2}), stream_id=(?<stream>\d+)>")]
    private static partial Regex DataFrames();
}
