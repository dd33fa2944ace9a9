using System.Text.Json;

namespace Blueprint.Shortener.Tests;

/// <summary>The issue's own commands, with curl as the foreign client.</summary>
public sealed class CurlTests
{
    [Fact]
    public async Task Curl_creates_a_link_and_curl_I_is_redirected_to_it()
    {
        var curl = Peers.Require("curl", "curl");
        await using var shortener = await ShortenerHarness.StartAsync();
        var root = shortener.Node.Node.HttpAddress.ToString().TrimEnd('/');

        await using var create = ProcessRunner.Start(curl,
            ["-s", "-X", "POST", $"{root}/api/links", "-H", $"X-Api-Key: {shortener.Key}", "-H", "Content-Type: application/json", "-d", "{\"url\":\"https://example.com/a\"}"]);
        Assert.Equal(0, await create.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var code = JsonDocument.Parse(create.StandardOutput).RootElement.GetProperty("code").GetString()!;

        await using var head = ProcessRunner.Start(curl, ["-sI", $"{root}/{code}"]);
        Assert.Equal(0, await head.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var lines = head.StandardOutput.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Equal("HTTP/1.1 302 Found", lines[0]);
        Assert.Contains("Location: https://example.com/a", lines);

        await using var unknown = ProcessRunner.Start(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", $"{root}/zzzzzzz"]);
        Assert.Equal(0, await unknown.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("404", unknown.StandardOutput.Trim());
    }
}
