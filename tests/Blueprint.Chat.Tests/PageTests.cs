using System.Net;
using System.Text.RegularExpressions;

namespace Blueprint.Chat.Tests;

/// <summary>The browser client's files as the node serves them (the page itself is driven in Blueprint.Chat.Browser.Tests).</summary>
public sealed partial class PageTests
{
    [Fact]
    public async Task Chat_ServesThePageItsStyleAndScript_FromThisOriginOnly()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);

        using var page = await node.Http.GetAsync(new Uri("/chat", UriKind.Relative), ChatKit.Token);
        using var style = await node.Http.GetAsync(new Uri("/chat/chat.css", UriKind.Relative), ChatKit.Token);
        using var script = await node.Http.GetAsync(new Uri("/chat/chat.js", UriKind.Relative), ChatKit.Token);
        using var missing = await node.Http.GetAsync(new Uri("/chat/secrets.txt", UriKind.Relative), ChatKit.Token);
        var html = await page.Content.ReadAsStringAsync(ChatKit.Token);
        var js = await script.Content.ReadAsStringAsync(ChatKit.Token);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        // Everything the page loads comes from the node: no absolute URL to another host, in the page or the script.
        Assert.Equal(["/chat/chat.css", "/chat/chat.js"], SourceOrHref().Matches(html).Select(match => match.Groups[1].Value).Where(value => value != "data:,").Order());
        Assert.DoesNotMatch(AbsoluteUrl(), html);
        Assert.DoesNotMatch(AbsoluteUrl(), js);
        Assert.Contains("id=\"messages\"", html, StringComparison.Ordinal);
        Assert.Contains("aria-live=\"polite\"", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("(?:src|href)=\"([^\"]*)\"")]
    private static partial Regex SourceOrHref();

    [GeneratedRegex("https?://", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();
}
