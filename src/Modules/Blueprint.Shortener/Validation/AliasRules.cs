using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;

namespace Blueprint.Shortener.Validation;

/// <summary>
/// What a custom alias (a short code the creator picks) may be. Aliases share the URL space with
/// the service's own routes, so those names are reserved; the character set keeps aliases safe in a
/// path segment without escaping.
/// </summary>
internal static class AliasRules
{
    public const int LengthMin = 3;
    public const int LengthMax = 64;

    private static readonly string WrongLength =
        string.Create(CultureInfo.InvariantCulture, $"alias must be {LengthMin} to {LengthMax} characters");

    private static readonly SearchValues<char> AliasChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    /// <summary>Names that are, or may become, routes of the service; compared case-insensitively.</summary>
    public static IReadOnlySet<string> Reserved { get; } = new[]
    {
        "api", "admin", "assets", "auth", "docs", "favicon", "health", "healthz", "links", "livez", "login",
        "logout", "metrics", "openapi", "readyz", "robots", "scalar", "sitemap", "static", "stats", "swagger",
        "v1", "v2",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when <paramref name="alias"/> may be used, else the reason for a problem+json <c>detail</c>.</summary>
    public static string? Check(string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        if (alias.Length is < LengthMin or > LengthMax)
        {
            return WrongLength;
        }

        if (alias.AsSpan().ContainsAnyExcept(AliasChars))
        {
            return "alias may contain only letters, digits, '_' and '-'";
        }

        return Reserved.Contains(alias) ? $"alias '{alias}' is reserved" : null;
    }
}
