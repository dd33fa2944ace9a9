using System.Globalization;

namespace Blueprint.Kv.Tests;

/// <summary>The embedded KV driven by a client nobody here wrote: Debian's redis-cli.</summary>
public sealed class RedisCliTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async ValueTask InitializeAsync() =>
        _node = await TestNode.StartAsync(settings: new Dictionary<string, string?> { ["Node:Modules"] = "kv" }, cancellationToken: TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private async Task<string> RedisCliAsync(params string[] command)
    {
        var binary = Peers.Require("redis-cli", "redis-tools");
        await using var cli = ProcessRunner.Start(binary, ["-h", "127.0.0.1", "-p", _node.RespPort.ToString(CultureInfo.InvariantCulture), .. command]);
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, exit);
        return cli.StandardOutput.Trim();
    }

    [Fact]
    public async Task Ping_AnswersPong() => Assert.Equal("PONG", await RedisCliAsync("ping"));

    [Fact]
    public async Task SetGetIncr_RoundTrip()
    {
        Assert.Equal("OK", await RedisCliAsync("set", "cli:key", "from redis-cli"));
        Assert.Equal("from redis-cli", await RedisCliAsync("get", "cli:key"));
        Assert.Equal("1", await RedisCliAsync("incr", "cli:n"));
        Assert.Equal("2", await RedisCliAsync("incr", "cli:n"));
    }

    [Fact]
    public async Task Eval_ReturnsScriptResult() =>
        Assert.Equal("7", await RedisCliAsync("eval", "return tonumber(ARGV[1]) + 2", "0", "5"));

    [Fact]
    public async Task UnknownCommand_AnswersProtocolError() =>
        Assert.Contains("ERR", await RedisCliAsync("nosuchcommand"), StringComparison.Ordinal);
}
