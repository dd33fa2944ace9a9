using Blueprint.Gateway.Forward;

namespace Blueprint.Gateway.Tests.Forward;

/// <summary>The allowlist decides on the destination as written: names by name, address literals by range, ports when a rule names one.</summary>
public sealed class AllowlistTests
{
    [Theory]
    [InlineData("api.example.com", "api.example.com:80", true)]
    [InlineData("api.example.com", "API.Example.com.:8080", true)] // case and a trailing dot do not matter
    [InlineData("api.example.com", "www.example.com:80", false)]
    [InlineData("api.example.com", "api.example.com.evil.test:80", false)]
    [InlineData("*.example.com", "a.b.example.com:443", true)]
    [InlineData("*.example.com", "example.com:443", false)] // the suffix, not the name itself
    [InlineData("*.example.com", "badexample.com:443", false)]
    [InlineData("registry.example:8443", "registry.example:8443", true)]
    [InlineData("registry.example:8443", "registry.example:443", false)]
    [InlineData("127.0.0.0/8", "127.9.8.7:1", true)]
    [InlineData("127.0.0.0/8", "128.0.0.1:1", false)]
    [InlineData("127.0.0.0/8", "localhost:80", false)] // a name is never resolved to match a range
    [InlineData("127.0.0.1:8080", "127.0.0.1:8080", true)]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8081", false)]
    [InlineData("127.0.0.1", "[::ffff:127.0.0.1]:80", true)] // an IPv4-mapped address is its IPv4 address
    [InlineData("::1", "[::1]:443", true)]
    [InlineData("[::1]:443", "[::1]:444", false)]
    [InlineData("fd00::/8", "[fd12::1]:443", true)]
    public void A_rule_matches_exactly_the_destinations_it_names(string entry, string authority, bool allowed)
    {
        Assert.Null(Destination.TryParseAuthority(authority, out var destination));
        var refusal = new Allowlist([entry]).Refusal(destination);
        Assert.Equal(allowed, refusal is null);
    }

    [Theory]
    [InlineData("*", "open proxy")]
    [InlineData("0.0.0.0/0", "open proxy")]
    [InlineData("", "is empty")]
    [InlineData("10.0.0.1/8", "host bits set")]
    [InlineData("10.0.0.0/33", "not a CIDR range")]
    [InlineData("example.com:0", "port")]
    [InlineData("example.com:https", "port")]
    [InlineData("ex ample.com", "not a host name")]
    [InlineData("-bad.example", "not a host name")]
    [InlineData("a.*.example", "not a host name")]
    [InlineData("300.1.1.1", "not an IP address")]
    [InlineData("[::1", "[IPv6]:port")]
    public void A_bad_entry_is_refused_with_its_reason(string entry, string reason)
    {
        Assert.Contains(reason, AllowRule.TryParse(entry, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_allowlist_refuses_everything()
    {
        Assert.Null(Destination.TryParseAuthority("127.0.0.1:443", out var destination));
        Assert.Contains("is empty", new Allowlist([]).Refusal(destination), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com", "is not host:port")]
    [InlineData("example.com:0", "port")]
    [InlineData("::1:443", "is not host:port")]
    [InlineData("bad_name:443", "not a host name")]
    public void A_malformed_CONNECT_target_is_refused(string authority, string reason)
    {
        Assert.Contains(reason, Destination.TryParseAuthority(authority, out _), StringComparison.Ordinal);
    }
}
