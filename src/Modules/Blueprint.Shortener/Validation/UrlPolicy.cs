using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Blueprint.Shortener.Validation;

/// <summary>
/// The rules a target URL must meet: absolute http or https, no credentials, not longer than
/// <paramref name="lengthMax"/>, not this shortener (a redirect loop) and not a blocked domain.
/// Accepted URLs come back in one normal form (lower-case scheme and punycode host, default port
/// dropped, path, query and fragment as <see cref="Uri"/> escapes them), so normalizing twice
/// changes nothing.
/// </summary>
/// <param name="lengthMax">The longest URL accepted, in characters, before and after normalizing.</param>
/// <param name="selfHosts">The shortener's own host names; ports are ignored.</param>
/// <param name="blockedDomains">Domains that no link may point at, nor at their subdomains; Unicode or punycode.</param>
internal sealed class UrlPolicy(int lengthMax, IEnumerable<string> selfHosts, IEnumerable<string> blockedDomains)
{
    public const int DefaultLengthMax = 2048;

    // RFC 3986 puts no limit on a scheme; a longer "scheme" is garbage, not one worth naming back.
    private const int SchemeLengthMax = 32;

    private const string Required = "url is required";
    private const string NotAbsolute = "url must be an absolute http or https URL";
    private const string Credentials = "url must not contain credentials (user-info)";
    private const string MissingHost = "url must have a host";
    private const string InvalidHost = "url host is not a valid domain name or IP address";
    private const string DisguisedHost = "url host contains invisible or compatibility characters; write it in plain form";
    private const string SelfLoop = "url points at this shortener, which would make a redirect loop";

    private static readonly SearchValues<char> SchemeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

    // What a host may hold once in ASCII: LDH labels, '_' (seen in real names), dots, and IP literals.
    private static readonly SearchValues<char> AsciiHostChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_.");

    // Characters that end an authority: a configured host holding one is not just a host.
    private static readonly SearchValues<char> AuthorityBreakers = SearchValues.Create("/\\?#@");

    private readonly int _lengthMax = lengthMax > 0
        ? lengthMax
        : throw new ArgumentOutOfRangeException(nameof(lengthMax), lengthMax, "must be positive");

    private readonly string _tooLong = string.Create(CultureInfo.InvariantCulture, $"url is longer than {lengthMax} characters");
    private readonly string _tooLongNormalized = string.Create(CultureInfo.InvariantCulture, $"url is longer than {lengthMax} characters once normalized");
    private readonly FrozenSet<string> _selfHosts = HostKeys(selfHosts, nameof(selfHosts));
    private readonly FrozenSet<string> _blockedDomains = HostKeys(blockedDomains, nameof(blockedDomains));

    /// <summary>
    /// Checks <paramref name="url"/>. <paramref name="requestHost"/> is the create request's Host
    /// header (a port is ignored); an unparsable one is ignored too, since the configured hosts still apply.
    /// On failure <paramref name="reason"/> is one sentence for a problem+json <c>detail</c>.
    /// </summary>
    public bool TryNormalize(string? url, string? requestHost, out string normalized, out string reason)
    {
        reason = Check(url, requestHost, out normalized) ?? string.Empty;
        return reason.Length == 0;
    }

    /// <summary>
    /// The comparison form of a configured host or Host header: punycode, lower-case, without port,
    /// brackets kept on IPv6, no trailing dot. False when it is not a plain host.
    /// </summary>
    public static bool TryNormalizeHost(string? host, out string key)
    {
        key = string.Empty;
        if (string.IsNullOrWhiteSpace(host))
        {
            return false;
        }

        var text = host.Trim();
        if (text.AsSpan().IndexOfAny(AuthorityBreakers) >= 0 || HasSpaceOrControl(text))
        {
            return false;
        }

        // Parsing through Uri gives configured hosts exactly the normal form that targets get.
        if (!Uri.TryCreate("http://" + text + "/", UriKind.Absolute, out var uri)
            && !Uri.TryCreate("http://[" + text + "]/", UriKind.Absolute, out uri))
        {
            return false;
        }

        if (HostOf(uri, out var ascii) is not null)
        {
            return false;
        }

        key = KeyOf(ascii);
        return key.Length > 0;
    }

    private string? Check(string? url, string? requestHost, out string normalized)
    {
        normalized = string.Empty;
        if (string.IsNullOrWhiteSpace(url))
        {
            return Required;
        }

        if (url.Length > _lengthMax)
        {
            return _tooLong;
        }

        // Uri forgives surrounding and embedded spaces and strips some controls; a stored target must not depend on that.
        if (HasSpaceOrControl(url))
        {
            return NotAbsolute;
        }

        // The scheme is read from the text, not from Uri: on Unix Uri takes "/etc/passwd" as a file URL.
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon > SchemeLengthMax || !char.IsAsciiLetter(url[0]) || url.AsSpan(0, colon).ContainsAnyExcept(SchemeChars))
        {
            return NotAbsolute;
        }

        var scheme = url[..colon].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return string.Create(CultureInfo.InvariantCulture, $"scheme '{scheme}' is not allowed; only http and https");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != scheme)
        {
            return NotAbsolute;
        }

        if (uri.UserInfo.Length > 0)
        {
            return Credentials;
        }

        if (HostOf(uri, out var host) is { } hostProblem)
        {
            return hostProblem;
        }

        var port = uri.IsDefaultPort ? string.Empty : ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        if (EscapedToFixpoint(scheme + "://" + host + port, uri) is not { } candidate)
        {
            return NotAbsolute;
        }

        if (candidate.Length > _lengthMax)
        {
            return _tooLongNormalized;
        }

        var key = KeyOf(host);
        if (_selfHosts.Contains(key) || (TryNormalizeHost(requestHost, out var requestKey) && requestKey == key))
        {
            return SelfLoop;
        }

        if (BlockedBy(key, uri.HostNameType) is { } blocked)
        {
            return string.Create(CultureInfo.InvariantCulture, $"domain '{blocked}' is blocked");
        }

        normalized = candidate;
        return null;
    }

    /// <summary>
    /// The URL with <paramref name="uri"/>'s path, query and fragment as Uri escapes them, re-escaped
    /// until stable: Uri leaves "%%41" as "%25%41" on one pass and makes it "%25A" on the next, and a
    /// stored form must survive its own validation unchanged. Null if it does not settle.
    /// </summary>
    private static string? EscapedToFixpoint(string authority, Uri uri)
    {
        const int RoundsMax = 4;
        var url = authority + Escaped(uri);
        for (var round = 0; round < RoundsMax; round++)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var again))
            {
                return null;
            }

            var next = authority + Escaped(again);
            if (next == url)
            {
                return url;
            }

            url = next;
        }

        return null;
    }

    private static string Escaped(Uri uri) =>
        uri.GetComponents(UriComponents.PathAndQuery | UriComponents.Fragment, UriFormat.UriEscaped);

    // The blocked entry matching the host itself or one of its parent domains, walking up label by label.
    private string? BlockedBy(string key, UriHostNameType hostType)
    {
        if (_blockedDomains.Count == 0)
        {
            return null;
        }

        if (hostType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return _blockedDomains.Contains(key) ? key : null;
        }

        var lookup = _blockedDomains.GetAlternateLookup<ReadOnlySpan<char>>();
        var suffix = key.AsSpan();
        while (true)
        {
            if (lookup.TryGetValue(suffix, out var entry))
            {
                return entry;
            }

            var dot = suffix.IndexOf('.');
            if (dot < 0)
            {
                return null;
            }

            suffix = suffix[(dot + 1)..];
        }
    }

    /// <summary>The host as it goes into the normal form, or the reason it cannot.</summary>
    private static string? HostOf(Uri uri, out string host)
    {
        host = string.Empty;
        if (uri.Host.Length == 0)
        {
            return MissingHost;
        }

        switch (uri.HostNameType)
        {
            case UriHostNameType.IPv4:
            case UriHostNameType.IPv6:
                // Uri already writes these canonically: dotted decimal, compressed IPv6 in brackets.
                host = uri.Host;
                return null;
            case UriHostNameType.Dns:
            case UriHostNameType.Basic:
                break;
            default:
                return InvalidHost;
        }

        if (IsDisguised(uri.Host))
        {
            return DisguisedHost;
        }

        string ascii;
        try
        {
            ascii = uri.IdnHost.ToLowerInvariant();
        }
        catch (Exception exception) when (exception is UriFormatException or ArgumentException)
        {
            return InvalidHost;
        }

        if (ascii.AsSpan().ContainsAnyExcept(AsciiHostChars))
        {
            return InvalidHost;
        }

        if (KeyOf(ascii).Length == 0)
        {
            return MissingHost;
        }

        host = ascii;
        return null;
    }

    // "example.org." and "example.org" name the same host.
    private static string KeyOf(string host) => host.TrimEnd('.');

    /// <summary>
    /// True when the host holds characters that browsers map to something else (UTS #46) before
    /// resolving: with invariant globalization .NET punycodes them as they are, so a fullwidth
    /// "ｅｘａｍｐｌｅ.org" would slip past a block on example.org. Rejecting them is simpler
    /// than carrying the mapping table.
    /// </summary>
    private static bool IsDisguised(string host)
    {
        foreach (var rune in host.EnumerateRunes())
        {
            if (rune.IsAscii)
            {
                continue;
            }

            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format)
            {
                return true; // soft hyphen, zero-width joiners, bidi controls: invisible in the address bar
            }

            if (rune.Value is 0xAA or 0xB2 or 0xB3 or 0xB9 or 0xBA // ª ² ³ ¹ º
                or (>= 0x2070 and <= 0x209F) // superscripts and subscripts
                or (>= 0x2100 and <= 0x218F) // letterlike symbols, number forms
                or (>= 0x2460 and <= 0x24FF) // enclosed alphanumerics
                or (>= 0xFE10 and <= 0xFE1F) // vertical forms
                or (>= 0xFE30 and <= 0xFE6F) // compatibility and small forms
                or (>= 0xFF00 and <= 0xFFEF) // fullwidth and halfwidth forms
                or (>= 0x1D400 and <= 0x1D7FF) // mathematical alphanumerics
                or (>= 0x1F100 and <= 0x1F1FF) // enclosed alphanumeric supplement
                or (>= 0x1FBF0 and <= 0x1FBF9)) // segmented digits
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasSpaceOrControl(string text)
    {
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    private static FrozenSet<string> HostKeys(IEnumerable<string> hosts, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(hosts, parameterName);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var host in hosts)
        {
            if (string.IsNullOrWhiteSpace(host))
            {
                continue;
            }

            if (!TryNormalizeHost(host, out var key))
            {
                throw new ArgumentException($"'{host}' is not a host name", parameterName);
            }

            keys.Add(key);
        }

        return keys.ToFrozenSet(StringComparer.Ordinal);
    }
}
