using System.Globalization;
using System.Net;

namespace Blueprint.Gateway.Forward;

/// <summary>
/// Where a forward-proxied request wants to go: a name (never resolved to decide) or an address
/// literal, and a port.
/// </summary>
/// <param name="Host">The host as the client wrote it, lower case, without brackets or a trailing dot.</param>
/// <param name="Address">The address when <paramref name="Host"/> is an IP literal; null for a name.</param>
/// <param name="Port">The port.</param>
internal readonly record struct Destination(string Host, IPAddress? Address, int Port)
{
    /// <summary>The destination as <c>host:port</c> (IPv6 in brackets), for messages and for connecting.</summary>
    public string Authority => Address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 }
        ? $"[{Host}]:{Port}"
        : $"{Host}:{Port}";

    /// <summary>Parses a CONNECT target, <c>host:port</c> (RFC 9110 §9.3.6: the port is required); null, or the reason it is not one.</summary>
    public static string? TryParseAuthority(string authority, out Destination destination)
    {
        destination = default;
        string host;
        string port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= authority.Length || authority[close + 1] != ':')
            {
                return "is not [address]:port";
            }

            host = authority[1..close];
            port = authority[(close + 2)..];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            if (colon <= 0 || authority.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                return "is not host:port";
            }

            host = authority[..colon];
            port = authority[(colon + 1)..];
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            return "has no port from 1 to 65535";
        }

        return From(host, number, out destination);
    }

    /// <summary>The destination of an absolute-form <c>http://</c> URI; null, or the reason it has none.</summary>
    public static string? TryParseUri(Uri uri, out Destination destination) =>
        From(uri.HostNameType is UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.IdnHost, uri.Port, out destination);

    private static string? From(string host, int port, out Destination destination)
    {
        destination = default;
        var name = host.TrimEnd('.').ToLowerInvariant();
        if (AllowRule.LooksLikeAddress(name))
        {
            if (!IPAddress.TryParse(name, out var address))
            {
                return $"'{host}' is not an IP address";
            }

            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            destination = new Destination(address.ToString(), address, port);
            return null;
        }

        if (AllowRule.CheckName(name) is { } reason)
        {
            return $"'{host}' {reason}";
        }

        destination = new Destination(name, null, port);
        return null;
    }
}

/// <summary>
/// One entry of <c>Gateway:ForwardProxy:Allow</c>: a name, a name suffix (<c>*.example.com</c>) or an
/// address range, each with an optional port. Names match only names and ranges only address
/// literals, so the decision never depends on DNS.
/// </summary>
internal sealed record AllowRule(string? Name, bool IsSuffix, IPNetwork? Network, int? Port)
{
    private const int NameLengthMax = 253;
    private const int LabelLengthMax = 63;

    /// <summary>Whether <paramref name="destination"/> is allowed by this rule.</summary>
    public bool Matches(Destination destination)
    {
        if (Port is { } port && port != destination.Port)
        {
            return false;
        }

        if (Network is { } network)
        {
            return destination.Address is { } address && network.Contains(address);
        }

        return destination.Address is null && (IsSuffix
            ? destination.Host.EndsWith("." + Name, StringComparison.Ordinal)
            : string.Equals(destination.Host, Name, StringComparison.Ordinal));
    }

    /// <summary>Parses one allowlist entry; null and the rule, or the reason it is not one.</summary>
    public static string? TryParse(string text, out AllowRule? rule)
    {
        rule = null;
        var entry = text.Trim().ToLowerInvariant();
        if (entry.Length == 0)
        {
            return "is empty";
        }

        if (entry is "*" or "*.*" || entry.StartsWith("*:", StringComparison.Ordinal) || entry is "0.0.0.0/0" or "::/0")
        {
            return "allows every destination (an open proxy); list the destinations instead";
        }

        if (entry.Contains('/', StringComparison.Ordinal))
        {
            if (!IPNetwork.TryParse(entry, out var network))
            {
                return "is not a CIDR range such as 10.0.0.0/8 or fd00::/8";
            }

            if (!IPAddress.TryParse(entry[..entry.IndexOf('/', StringComparison.Ordinal)], out var first) || !first.Equals(network.BaseAddress))
            {
                return $"has host bits set: the range is written {network}";
            }

            rule = new AllowRule(null, false, network, null);
            return null;
        }

        string host;
        int? port = null;
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < entry.Length && entry[close + 1] != ':'))
            {
                return "is not [IPv6]:port";
            }

            host = entry[1..close];
            if (close + 1 < entry.Length && TryPort(entry[(close + 2)..], out port) is { } portReason)
            {
                return portReason;
            }
        }
        else if (entry.Count(c => c == ':') >= 2)
        {
            host = entry; // a bare IPv6 address: any port
        }
        else
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? entry : entry[..colon];
            if (colon >= 0 && TryPort(entry[(colon + 1)..], out port) is { } portReason)
            {
                return portReason;
            }
        }

        if (LooksLikeAddress(host))
        {
            if (!IPAddress.TryParse(host, out var address) || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host.Count(c => c == '.') != 3))
            {
                return "is not an IP address";
            }

            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            rule = new AllowRule(null, false, new IPNetwork(address, address.GetAddressBytes().Length * 8), port);
            return null;
        }

        var isSuffix = host.StartsWith("*.", StringComparison.Ordinal);
        var name = isSuffix ? host[2..] : host;
        if (CheckName(name) is { } reason)
        {
            return reason;
        }

        rule = new AllowRule(name, isSuffix, null, port);
        return null;
    }

    /// <summary>Whether <paramref name="host"/> is written as an address (digits and dots, or IPv6 with colons), not a name.</summary>
    internal static bool LooksLikeAddress(string host) =>
        host.Contains(':', StringComparison.Ordinal) || (host.Length > 0 && host.All(c => char.IsAsciiDigit(c) || c == '.'));

    /// <summary>Null when <paramref name="name"/> is a DNS name (RFC 1123 labels, ASCII), or the reason it is not.</summary>
    internal static string? CheckName(string name)
    {
        if (name.Length is 0 or > NameLengthMax)
        {
            return $"is not a host name (1 to {NameLengthMax} characters)";
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > LabelLengthMax || label.StartsWith('-') || label.EndsWith('-')
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return "is not a host name (labels of letters, digits and inner hyphens; internationalized names in their xn-- form; '*.' only in front)";
            }
        }

        return null;
    }

    private static string? TryPort(string text, out int? port)
    {
        port = null;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            return "has no port from 1 to 65535 after ':'";
        }

        port = number;
        return null;
    }
}

/// <summary>The parsed <c>Gateway:ForwardProxy:Allow</c>: a destination passes when any rule matches it.</summary>
internal sealed class Allowlist
{
    private readonly IReadOnlyList<AllowRule> _rules;

    /// <summary>Parses the entries; invalid ones were reported by options validation and are skipped here.</summary>
    public Allowlist(IEnumerable<string> entries)
    {
        var rules = new List<AllowRule>();
        foreach (var entry in entries)
        {
            if (AllowRule.TryParse(entry, out var rule) is null)
            {
                rules.Add(rule!);
            }
        }

        _rules = rules;
    }

    /// <summary>Null when <paramref name="destination"/> is allowed, or why it is refused.</summary>
    public string? Refusal(Destination destination)
    {
        if (_rules.Count == 0)
        {
            return $"{destination.Authority} is refused: Gateway:ForwardProxy:Allow is empty, so the forward proxy refuses every destination";
        }

        return _rules.Any(rule => rule.Matches(destination))
            ? null
            : $"{destination.Authority} is not on Gateway:ForwardProxy:Allow";
    }
}
