using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Blueprint.Dashboard.Browser.Tests;

/// <summary>
/// A headless Debian chromium driven by Playwright's bundled driver (the browser is the distribution's, never a download).
/// A test without chromium is skipped, or fails under <c>BLUEPRINT_REQUIRE_PEERS=1</c>, like every other peer.
/// Each <see cref="OpenAsync"/> is a fresh browser context the size of a laptop screen (1366×768).
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    /// <summary>How long a Playwright wait or expectation may take on a loaded two-core machine.</summary>
    public const float TimeoutMs = 30_000;

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    /// <summary>Starts chromium, or skips the test when it is not installed.</summary>
    public static async Task<DashboardBrowser> LaunchAsync()
    {
        var chromium = Peers.Require("chromium", "chromium");
        SetDefaultExpectTimeout(TimeoutMs);
        var playwright = await Playwright.CreateAsync();
        try
        {
            // Launch (not a persistent context) gives every run a fresh temporary profile.
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = Arguments,
                Timeout = 60_000,
            });
            return new DashboardBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens the dashboard of <paramref name="node"/> at <paramref name="hash"/> (such as <c>#/traces</c>).</summary>
    /// <param name="node">The node serving the page.</param>
    /// <param name="hash">The section to open.</param>
    /// <param name="prepare">Runs before the page loads: routes that stand in for an API, say.</param>
    public async Task<DashboardPage> OpenAsync(TestNode node, string hash = "#/node", Func<IPage, Task>? prepare = null)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = node.Http.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
        });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        var dashboard = new DashboardPage(page);
        if (prepare is not null)
        {
            await prepare(page);
        }

        await page.GotoAsync("/" + hash);
        await Expect(page.Locator("#version")).Not.ToBeEmptyAsync();
        return dashboard;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
