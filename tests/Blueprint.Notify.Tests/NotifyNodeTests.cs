namespace Blueprint.Notify.Tests;

public sealed class NotifyNodeTests
{
    [Fact]
    public async Task TheNodeStarts_WithTheNotifyModule()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var health = await node.Http.GetAsync(new Uri("/readyz", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.True(health.IsSuccessStatusCode, await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
