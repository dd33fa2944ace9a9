using Blueprint.Shortener.Clicks;
using CsCheck;

namespace Blueprint.Shortener.Tests;

public sealed class ClickClassifierTests
{
    [Theory]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "Chrome")]
    [InlineData("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "Chrome")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51", "Edge")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15", "Firefox")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", "Safari")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", "Safari")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0", "Opera")]
    [InlineData("Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Opera")]
    [InlineData("Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "Samsung Internet")]
    [InlineData("curl/8.5.0", "curl")]
    [InlineData("Wget/1.21.4", "Wget")]
    [InlineData("python-requests/2.31.0", "HTTP library")]
    [InlineData("Go-http-client/2.0", "HTTP library")]
    [InlineData("okhttp/4.12.0", "HTTP library")]
    [InlineData("Java/17.0.2", "HTTP library")]
    [InlineData("axios/1.6.8", "HTTP library")]
    [InlineData("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "HTTP library")]
    [InlineData("libwww-perl/6.72", "HTTP library")]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Bot")]
    [InlineData("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Bot")]
    [InlineData("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Bot")]
    [InlineData("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Bot")]
    [InlineData("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Bot")]
    [InlineData("Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", "Bot")]
    [InlineData("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "Bot")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36", "Bot")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "Other")]
    [InlineData("MyCustomAgent/1.0", "Other")]
    [InlineData(null, "Unknown")]
    [InlineData("", "Unknown")]
    [InlineData("   ", "Unknown")]
    public void Classify_UserAgent_GivesItsFamily(string? userAgent, string expected)
    {
        Assert.Equal(expected, UserAgentFamily.Classify(userAgent));
    }

    [Fact]
    public void Classify_AnyString_GivesAMemberOfAll()
    {
        Gen.String[0, 8192].Sample(userAgent => UserAgentFamily.All.Contains(UserAgentFamily.Classify(userAgent)), iter: 2_000);
    }

    [Fact]
    public void Classify_TokenPastTheScannedPrefix_IsIgnored()
    {
        var padded = new string('x', 4096) + " Chrome/124.0";

        Assert.Equal("Other", UserAgentFamily.Classify(padded));
        Assert.Equal("Chrome", UserAgentFamily.Classify(padded[4000..]));
    }

    [Fact]
    public void All_HasTwelveDistinctFamilies()
    {
        Assert.Equal(12, UserAgentFamily.All.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("https://www.Google.com/search?q=x", "google.com")]
    [InlineData("https://news.ycombinator.com/item?id=1", "news.ycombinator.com")]
    [InlineData("http://WWW.example.com.:8080/", "example.com")]
    [InlineData("https://www2.example.com/", "www2.example.com")]
    [InlineData("https://bücher.example/", "xn--bcher-kva.example")]
    [InlineData("https://user:secret@example.com/", "example.com")]
    [InlineData("http://[::1]:8080/", "[::1]")]
    [InlineData("http://10.0.0.1/", "10.0.0.1")]
    [InlineData(null, "(direct)")]
    [InlineData("", "(direct)")]
    [InlineData("  ", "(direct)")]
    [InlineData("not a url", "(invalid)")]
    [InlineData("/relative/path", "(invalid)")]
    [InlineData("android-app://com.google.android.gm", "(invalid)")]
    [InlineData("ftp://example.com/", "(invalid)")]
    [InlineData("javascript:alert(1)", "(invalid)")]
    public void ReferrerHostOf_Referer_GivesItsHost(string? referer, string expected)
    {
        Assert.Equal(expected, ReferrerHost.Of(referer));
    }

    [Fact]
    public void ReferrerHostOf_AnyString_IsBoundedAndNeverThrows()
    {
        Gen.String[0, 600].Sample(text =>
        {
            var host = ReferrerHost.Of("https://" + text);
            return host.Length <= ReferrerHost.HostLengthMax && !host.Any(char.IsAsciiLetterUpper) && !host.StartsWith("www.", StringComparison.Ordinal);
        }, iter: 5_000);
    }
}
