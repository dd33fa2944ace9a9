using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Blueprint.Dashboard.Browser.Tests;

/// <summary>
/// One tab of the dashboard. It records the page's uncaught exceptions and the errors its console reports (a failed
/// request included), which <see cref="AssertNoErrorsAsync"/> turns into a failure.
/// </summary>
internal sealed class DashboardPage
{
    private readonly List<string> _errors = [];
    private readonly List<string> _consoleErrors = [];

    public DashboardPage(IPage page)
    {
        Page = page;
        page.PageError += (_, error) => _errors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Opens a section from the sidebar, as a keyboard user would: focus its link and press Enter.</summary>
    public async Task OpenSectionAsync(string section)
    {
        var link = Page.Locator($"nav.sections a[data-section=\"{section}\"]");
        await link.FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(link).ToHaveAttributeAsync("aria-current", "page");
        await Expect(Page.Locator($"main > section#{section}")).ToBeVisibleAsync();
    }

    /// <summary>Saves a screenshot (the whole page, or what the viewport shows) under the test output's <c>screenshots</c> folder and attaches it to the result.</summary>
    public async Task<string> ScreenshotAsync(string name, bool fullPage = true)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var test = TestContext.Current.Test?.TestCase.TestMethod?.MethodName ?? "test";
        var path = Path.Combine(directory, $"{test}-{name}.png");
        var bytes = await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        TestContext.Current.AddAttachment($"{name}.png", bytes, "image/png");
        return path;
    }

    /// <summary>Fails on an uncaught script error, an error the page showed, or (unless allowed) an error on the console.</summary>
    public async Task AssertNoErrorsAsync(bool allowConsoleErrors = false)
    {
        Assert.Empty(_errors);
        if (!allowConsoleErrors)
        {
            Assert.Empty(_consoleErrors);
        }

        await Expect(Page.Locator("#error")).ToBeHiddenAsync();
    }
}
