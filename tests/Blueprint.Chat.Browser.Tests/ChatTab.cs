using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Blueprint.Chat.Browser.Tests;

/// <summary>
/// One browser tab of the chat page, driven through the element ids the page keeps stable for tests (docs/chat.md,
/// "Browser client"). It records the page's uncaught errors, which <see cref="AssertNoErrorsAsync"/> turns into a failure.
/// </summary>
internal sealed partial class ChatTab
{
    private readonly List<string> _errors = [];

    public ChatTab(IPage page, string label)
    {
        Page = page;
        Label = label;
        // Uncaught exceptions only: the console also reports the failed connections a reconnect test causes on purpose.
        page.PageError += (_, error) => _errors.Add(error);
    }

    public IPage Page { get; }

    /// <summary>Names the tab in screenshots.</summary>
    public string Label { get; }

    public ILocator Messages => Page.Locator("#messages li");

    public ILocator Texts => Page.Locator("#messages li .text");

    public ILocator Typing => Page.Locator("#typing");

    public ILocator Status => Page.Locator("#status");

    public ILocator Presence => Page.Locator("#presence");

    /// <summary>Creates a user by name and waits until the page is signed in and its socket is authenticated.</summary>
    public async Task SignUpAsync(string name)
    {
        await Page.Locator("#login-name").FillAsync(name);
        await Page.Locator("#login-button").ClickAsync();
        await SignedInAsync(name);
    }

    /// <summary>Signs in with an existing key.</summary>
    public async Task SignInAsync(string key, string name)
    {
        await Page.Locator("#login-key").FillAsync(key);
        await Page.Locator("#key-button").ClickAsync();
        await SignedInAsync(name);
    }

    /// <summary>Creates a room from the sidebar; it opens; returns its id as the page shows it.</summary>
    public async Task<string> CreateRoomAsync(string name)
    {
        await Page.Locator("#new-room-name").FillAsync(name);
        await Page.Locator("#create-room-button").ClickAsync();
        await Expect(Page.Locator("#room-title")).ToHaveTextAsync($"# {name}");
        await Expect(Page.Locator("#room-id")).ToHaveTextAsync(Digits());
        return await Page.Locator("#room-id").TextContentAsync() ?? "";
    }

    /// <summary>Joins a room by id from the sidebar; it opens.</summary>
    public async Task JoinAsync(string room)
    {
        await Page.Locator("#join-room-id").FillAsync(room);
        await Page.Locator("#join-room-button").ClickAsync();
        await RoomOpenAsync(room);
    }

    /// <summary>Opens the direct conversation with a user by name; returns its room id.</summary>
    public async Task<string> OpenDirectAsync(string user)
    {
        await Page.Locator("#dm-user").FillAsync(user);
        await Page.Locator("#dm-button").ClickAsync();
        await Expect(Page.Locator("#room-title")).ToHaveTextAsync($"@ {user}");
        await Expect(Page.Locator("#room")).ToHaveAttributeAsync("data-room-id", Digits());
        return await Page.Locator("#room").GetAttributeAsync("data-room-id") ?? "";
    }

    /// <summary>Opens a room the user is in from the room list.</summary>
    public async Task OpenRoomAsync(string room)
    {
        await Page.Locator($"#room-list button[data-room-id=\"{room}\"]").ClickAsync();
        await RoomOpenAsync(room);
    }

    /// <summary>Types and sends a message with the composer.</summary>
    public async Task SendAsync(string text)
    {
        await Page.Locator("#message-input").FillAsync(text);
        await Page.Locator("#send-button").ClickAsync();
    }

    /// <summary>The message with this text (exactly one is expected by the callers).</summary>
    public ILocator Message(string text) => Page.Locator("#messages li").Filter(new LocatorFilterOptions { Has = Page.Locator(".text", new PageLocatorOptions { HasTextRegex = new Regex($"^{Regex.Escape(text)}$") }) });

    /// <summary>The ids of the messages shown, top to bottom.</summary>
    public async Task<List<string>> IdsAsync() =>
        [.. (await Messages.EvaluateAllAsync<string[]>("items => items.map(item => item.dataset.id)"))];

    /// <summary>Saves a screenshot under the test output's <c>screenshots</c> folder and attaches it to the test result.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var test = TestContext.Current.Test?.TestCase.TestMethod?.MethodName ?? "test";
        var path = Path.Combine(directory, $"{test}-{Label}-{name}.png");
        var bytes = await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        TestContext.Current.AddAttachment($"{Label}-{name}.png", bytes, "image/png");
        return path;
    }

    /// <summary>Fails on an uncaught script error or an error the page showed its user.</summary>
    public async Task AssertNoErrorsAsync()
    {
        Assert.Empty(_errors);
        await Expect(Page.Locator("#error")).ToBeHiddenAsync();
    }

    private async Task SignedInAsync(string name)
    {
        await Expect(Page.Locator("#me")).ToHaveTextAsync(name);
        await Expect(Status).ToHaveAttributeAsync("data-state", "online");
    }

    private async Task RoomOpenAsync(string room)
    {
        await Expect(Page.Locator("#room")).ToHaveAttributeAsync("data-room-id", room);
        await Expect(Page.Locator("#message-input")).ToBeEnabledAsync();
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Digits();
}
