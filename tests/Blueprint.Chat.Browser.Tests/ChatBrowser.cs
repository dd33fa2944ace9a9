using Microsoft.Playwright;

namespace Blueprint.Chat.Browser.Tests;

/// <summary>
/// A headless Debian chromium driven by Playwright's bundled driver (the browser is the distribution's, never a download).
/// A test without chromium is skipped, or fails under <c>BLUEPRINT_REQUIRE_PEERS=1</c>, like every other peer.
/// Each <see cref="OpenAsync"/> is a fresh browser context: its own local storage, so its own signed-in user.
/// Dispose it before the node (declare it after): a node stops only once the page's sockets are gone.
/// </summary>
internal sealed class ChatBrowser : IAsyncDisposable
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

    private ChatBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    /// <summary>Starts chromium, or skips the test when it is not installed.</summary>
    public static async Task<ChatBrowser> LaunchAsync()
    {
        var chromium = Peers.Require("chromium", "chromium");
        Assertions.SetDefaultExpectTimeout(TimeoutMs);
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
            return new ChatBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens <c>/chat</c> of <paramref name="node"/> in a fresh context, laptop-sized.</summary>
    public async Task<ChatTab> OpenAsync(TestNode node, string label)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = node.Http.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 720 },
        });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        var tab = new ChatTab(page, label);
        await page.GotoAsync("/chat");
        return tab;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
