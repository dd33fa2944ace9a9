using Blueprint.Shortener.Validation;
using CsCheck;

namespace Blueprint.Shortener.Tests;

public sealed class ValidationTests
{
    private static readonly UrlPolicy Policy = new(
        UrlPolicy.DefaultLengthMax,
        ["sho.rt", "Links.Example.NET:8443"],
        ["example.org", "MÜLLER.example", "xn--mller-kva.example", "Blocked.Test."]);

    public static TheoryData<string?, string?, string> BadUrls => new()
    {
        { null, null, "url is required" },
        { "", null, "url is required" },
        { " \t ", null, "url is required" },
        { "https://example.com/" + new string('a', 2049 - 20), null, "url is longer than 2048 characters" },
        { "/relative/path", null, "url must be an absolute http or https URL" },
        { "relative/path", null, "url must be an absolute http or https URL" },
        { "example.com", null, "url must be an absolute http or https URL" },
        { "//example.com/x", null, "url must be an absolute http or https URL" },
        { "http:example.com", null, "url must be an absolute http or https URL" },
        { "https://", null, "url must be an absolute http or https URL" },
        { "https://example.com/a b", null, "url must be an absolute http or https URL" },
        { " https://example.com/", null, "url must be an absolute http or https URL" },
        { "https://example.com/\n", null, "url must be an absolute http or https URL" },
        { "https://exa\u0007mple.com/", null, "url must be an absolute http or https URL" },
        { "https://example.com/\u00A0", null, "url must be an absolute http or https URL" },
        { "https://exa%6Dple.com/", null, "url must be an absolute http or https URL" },
        { "javascript:alert(1)", null, "scheme 'javascript' is not allowed; only http and https" },
        { "JavaScript:alert(1)", null, "scheme 'javascript' is not allowed; only http and https" },
        { "data:text/html,<script>alert(1)</script>", null, "scheme 'data' is not allowed; only http and https" },
        { "ftp://example.com/file.txt", null, "scheme 'ftp' is not allowed; only http and https" },
        { "file:///etc/passwd", null, "scheme 'file' is not allowed; only http and https" },
        { "mailto:someone@example.com", null, "scheme 'mailto' is not allowed; only http and https" },
        { "https://user:pass@example.com/", null, "url must not contain credentials (user-info)" },
        { "https://user@example.com/", null, "url must not contain credentials (user-info)" },
        { "https://ｅｘａｍｐｌｅ.org/", null, "url host contains invisible or compatibility characters" },
        { "https://ex\u00ADample.org/", null, "url host contains invisible or compatibility characters" },
        { "https://sho.rt/abc", null, "url points at this shortener, which would make a redirect loop" },
        { "http://SHO.RT.:8080/abc", null, "url points at this shortener, which would make a redirect loop" },
        { "https://links.example.net/x", null, "url points at this shortener, which would make a redirect loop" },
        { "http://localhost:5000/abc", "localhost:5000", "url points at this shortener, which would make a redirect loop" },
        { "https://Short.Test/abc", "short.test:8443", "url points at this shortener, which would make a redirect loop" },
        { "http://[::1]/abc", "[0:0::1]:5000", "url points at this shortener, which would make a redirect loop" },
        { "https://example.org/", null, "domain 'example.org' is blocked" },
        { "https://a.b.EXAMPLE.org:8080/x", null, "domain 'example.org' is blocked" },
        { "https://blocked.test./", null, "domain 'blocked.test' is blocked" },
        { "https://müller.example/", null, "domain 'xn--mller-kva.example' is blocked" },
        { "https://shop.MÜLLER.example/", null, "domain 'xn--mller-kva.example' is blocked" },
        { "https://xn--mller-kva.example/", null, "domain 'xn--mller-kva.example' is blocked" },
    };

    [Theory]
    [MemberData(nameof(BadUrls))]
    public void TryNormalize_BadUrl_IsRejectedWithItsReason(string? url, string? requestHost, string expectedReason)
    {
        var accepted = Policy.TryNormalize(url, requestHost, out var normalized, out var reason);

        Assert.False(accepted, $"accepted as {normalized}");
        Assert.Contains(expectedReason, reason, StringComparison.Ordinal);
        Assert.Equal(string.Empty, normalized);
    }

    [Theory]
    [InlineData("https://bücher.example/ä?q=1", "https://xn--bcher-kva.example/%C3%A4?q=1")]
    [InlineData("HTTPS://Example.COM/Path?Q=Upper#Frag", "https://example.com/Path?Q=Upper#Frag")]
    [InlineData("https://example.com", "https://example.com/")]
    [InlineData("http://example.com:8080/x", "http://example.com:8080/x")]
    [InlineData("https://example.com:443/x", "https://example.com/x")]
    [InlineData("http://example.com:443/x", "http://example.com:443/x")]
    [InlineData("https://example.com/a%2Fb/c%20d?x=%26y%3D&z=%F0%9F%98%80#f%2F", "https://example.com/a%2Fb/c%20d?x=%26y%3D&z=%F0%9F%98%80#f%2F")]
    [InlineData("https://example.com/a/../b", "https://example.com/b")]
    [InlineData("https://example.com/?%%41", "https://example.com/?%25A")]
    [InlineData("https://example.com./x", "https://example.com./x")]
    [InlineData("https://badexample.org/", "https://badexample.org/")]
    [InlineData("https://example.org.evil.test/", "https://example.org.evil.test/")]
    [InlineData("https://sho.rt.evil.test/", "https://sho.rt.evil.test/")]
    [InlineData("http://192.168.0.1/x", "http://192.168.0.1/x")]
    [InlineData("http://[0:0::1]:8080/x", "http://[::1]:8080/x")]
    [InlineData("https://a_b.example/", "https://a_b.example/")]
    public void TryNormalize_GoodUrl_GivesItsNormalForm(string url, string expected)
    {
        var accepted = Policy.TryNormalize(url, "short.test", out var normalized, out var reason);

        Assert.True(accepted, reason);
        Assert.Equal(expected, normalized);
        Assert.Equal(string.Empty, reason);
    }

    [Fact]
    public void TryNormalize_ExactlyLengthMax_IsAccepted()
    {
        var url = "https://example.com/" + new string('a', UrlPolicy.DefaultLengthMax - 20);

        Assert.True(Policy.TryNormalize(url, null, out var normalized, out _));
        Assert.Equal(url, normalized);
    }

    [Fact]
    public void TryNormalize_LongerOnceEscaped_IsRejected()
    {
        var policy = new UrlPolicy(30, [], []);
        var url = "https://example.com/ääääää"; // 26 characters, 44 once percent-encoded

        Assert.False(policy.TryNormalize(url, null, out _, out var reason));
        Assert.Equal("url is longer than 30 characters once normalized", reason);
    }

    [Theory]
    [InlineData("has/slash")]
    [InlineData("user@host")]
    [InlineData("bad host")]
    [InlineData("ｅｘａｍｐｌｅ.org")]
    public void Constructor_UnparsableBlockedDomain_Throws(string domain)
    {
        Assert.Throws<ArgumentException>(() => new UrlPolicy(UrlPolicy.DefaultLengthMax, [], [domain]));
    }

    [Theory]
    [InlineData("Sho.RT:8080", "sho.rt")]
    [InlineData("bücher.example.", "xn--bcher-kva.example")]
    [InlineData("[::1]:5000", "[::1]")]
    [InlineData("::1", "[::1]")]
    public void TryNormalizeHost_HostWithPort_GivesComparisonKey(string host, string expected)
    {
        Assert.True(UrlPolicy.TryNormalizeHost(host, out var key));
        Assert.Equal(expected, key);
    }

    [Fact]
    public void TryNormalize_UrlLikeInput_AcceptedOnlyAsIdempotentHttpUrl()
    {
        var schemes = Gen.Frequency((4, "http"), (4, "https"), (1, "HTTP"), (1, "hTtPs"), (1, "ftp"), (1, "javascript"));
        var hosts = Gen.OneOf("example.com", "EXAMPLE.com", "bücher.example", "sub.example.org", "müller.example",
            "sho.rt", "127.0.0.1", "[::1]", "a_b.example", "example.com.", "xn--bcher-kva.example", "ex%41mple.com");
        var ports = Gen.OneOf("", ":80", ":443", ":8080", ":0", ":65535", ":99999", ":x");
        var pieces = Gen.OneOf("a", "Z", "0", "-", ".", "_", "~", "!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", ":", "@",
            "/", "?", "#", "%", "%20", "%2F", "%2e", "%zz", "[", "]", "\\", "..", "/../", "ä", "€", "😀", "\u200B");
        var rests = Gen.Select(Gen.OneOf("", "/", "?", "#", "/path?"), pieces.Array[0, 16], static (start, parts) => start + string.Concat(parts));
        var generator = Gen.Select(schemes, Gen.Frequency((12, "://"), (1, ":/"), (1, ":"), (1, "://user@")), hosts, ports, rests,
            static (scheme, separator, host, port, rest) => scheme + separator + host + port + rest);

        var acceptedCount = 0;
        var sampledCount = 0;
        generator.Sample(url =>
        {
            Interlocked.Increment(ref sampledCount);
            if (!Policy.TryNormalize(url, null, out var normalized, out _))
            {
                return true;
            }

            Interlocked.Increment(ref acceptedCount);
            return (normalized.StartsWith("http://", StringComparison.Ordinal) || normalized.StartsWith("https://", StringComparison.Ordinal))
                && Policy.TryNormalize(normalized, null, out var again, out _)
                && again == normalized;
        }, iter: 20_000);

        // A generator whose URLs are nearly all rejected would make the property vacuous.
        Assert.True(acceptedCount > sampledCount / 5, $"only {acceptedCount} of {sampledCount} accepted: the property tested little");
    }

    [Fact]
    public void TryNormalize_AnyString_NeverThrowsAndAnswersConsistently()
    {
        Gen.String.Sample(text => AnswersConsistently(text) && AnswersConsistently("https://" + text), iter: 20_000);

        static bool AnswersConsistently(string url) => Policy.TryNormalize(url, "sho.rt", out var normalized, out var reason)
            ? reason.Length == 0 && normalized.StartsWith("https://", StringComparison.Ordinal)
            : reason.Length > 0 && normalized.Length == 0;
    }

    [Theory]
    [InlineData("abc", null)]
    [InlineData("my-Link_2024", null)]
    [InlineData("ab", "alias must be 3 to 64 characters")]
    [InlineData("", "alias must be 3 to 64 characters")]
    [InlineData("api", "alias 'api' is reserved")]
    [InlineData("API", "alias 'API' is reserved")]
    [InlineData("Healthz", "alias 'Healthz' is reserved")]
    [InlineData("favicon", "alias 'favicon' is reserved")]
    [InlineData("apis", null)]
    [InlineData("bücher", "alias may contain only letters, digits, '_' and '-'")]
    [InlineData("ΑΒΓ", "alias may contain only letters, digits, '_' and '-'")]
    [InlineData("a.b", "alias may contain only letters, digits, '_' and '-'")]
    [InlineData("a/b", "alias may contain only letters, digits, '_' and '-'")]
    [InlineData("a b", "alias may contain only letters, digits, '_' and '-'")]
    [InlineData("abc%20", "alias may contain only letters, digits, '_' and '-'")]
    public void AliasRulesCheck_Alias_GivesExpectedReason(string alias, string? expected)
    {
        Assert.Equal(expected, AliasRules.Check(alias));
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public void AliasRulesCheck_Length_IsBoundedByLengthMinAndMax(int length, bool valid)
    {
        Assert.Equal(valid, AliasRules.Check(new string('x', length)) is null);
    }

    [Fact]
    public void AliasRulesReserved_ServiceRoutes_AreAllReserved()
    {
        string[] routes = ["api", "healthz", "readyz", "metrics", "openapi", "docs", "scalar", "admin", "static", "assets",
            "login", "logout", "v1", "swagger", "favicon", "robots"];

        Assert.All(routes, route => Assert.Contains(route, AliasRules.Reserved));
        Assert.Contains("METRICS", AliasRules.Reserved);
    }
}
