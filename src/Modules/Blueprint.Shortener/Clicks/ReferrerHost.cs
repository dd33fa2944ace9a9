namespace Blueprint.Shortener.Clicks;

/// <summary>
/// The host a click came from, for stats: the Referer header reduced to a lower-case host without
/// "www.", so "https://www.Google.com/search?q=x" and "https://google.com/" count together and no
/// path or query (which may hold personal data) is kept.
/// </summary>
internal static class ReferrerHost
{
    /// <summary>What a request without a Referer counts as.</summary>
    public const string Direct = "(direct)";

    /// <summary>What a Referer that is not an absolute http or https URL counts as.</summary>
    public const string Invalid = "(invalid)";

    /// <summary>The longest DNS name (RFC 1035, without the trailing dot).</summary>
    public const int HostLengthMax = 253;

    // Longer headers are not worth parsing; Kestrel's own header limits sit above this.
    private const int RefererLengthMax = 8192;

    /// <summary>The referring host of <paramref name="referer"/>, <see cref="Direct"/> or <see cref="Invalid"/>.</summary>
    public static string Of(string? referer)
    {
        if (string.IsNullOrWhiteSpace(referer))
        {
            return Direct;
        }

        if (referer.Length > RefererLengthMax
            || !Uri.TryCreate(referer.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https"))
        {
            return Invalid;
        }

        string host;
        try
        {
            host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost.ToLowerInvariant();
        }
        catch (Exception exception) when (exception is UriFormatException or ArgumentException)
        {
            return Invalid;
        }

        host = host.TrimEnd('.');
        if (host.StartsWith("www.", StringComparison.Ordinal))
        {
            host = host[4..];
        }

        return host.Length is > 0 and <= HostLengthMax ? host : Invalid;
    }
}
