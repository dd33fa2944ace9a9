using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Blueprint.Gateway.Tests;

/// <summary>Routes and clusters from a file, reloaded on change; an invalid edit keeps the last good configuration.</summary>
public sealed class ReloadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task An_edited_file_reroutes_and_an_invalid_edit_keeps_the_last_good_configuration()
    {
        await using var backends = await Backends.StartAsync(3);
        using var directory = new TempDirectory("gateway-reload");
        var file = Path.Combine(directory.Path, "proxy.json");
        await File.WriteAllTextAsync(file, Config(backends.Addresses[0], "RoundRobin"), TestContext.Current.CancellationToken);
        var logs = new LogCapture();
        await using var gateway = await TestNode.StartAsync(null, new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ConfigFile"] = file,
        }, services => services.AddSingleton<ILoggerProvider>(logs), TestContext.Current.CancellationToken);
        Assert.Equal("b0", await NameAsync(gateway));

        await File.WriteAllTextAsync(file, Config(backends.Addresses[1], "RoundRobin"), TestContext.Current.CancellationToken);
        await Eventually.ValueAsync(() => NameAsync(gateway), name => name == "b1", Deadline, name => $"the edit to b1 was not applied: {name} answered", TestContext.Current.CancellationToken);

        await File.WriteAllTextAsync(file, Config(backends.Addresses[2], "Bogus"), TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(() => logs.Messages.Any(message => message.Contains("Bogus", StringComparison.Ordinal)), Deadline, () => "the invalid edit was not reported", TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("b1", await NameAsync(gateway));
        }
    }

    [Fact]
    public async Task A_missing_configuration_file_stops_the_start_naming_it()
    {
        var error = await Assert.ThrowsAsync<Blueprint.Hosting.StartupProblemException>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:ConfigFile"] = "/nonexistent/proxy.json",
        }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("Gateway:ConfigFile = '/nonexistent/proxy.json': no such file", error.Message, StringComparison.Ordinal);
    }

    private static string Config(string address, string policy) => $$"""
        {
          "Routes": { "svc": { "ClusterId": "backends", "Match": { "Path": "/svc/{**rest}" } } },
          "Clusters": { "backends": { "LoadBalancingPolicy": "{{policy}}", "Destinations": { "d": { "Address": "{{address}}" } } } }
        }
        """;

    private static async Task<string> NameAsync(TestNode gateway)
    {
        using var response = await gateway.Http.GetAsync("/svc/who", TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split(' ')[0];
    }
}
