using System.Security.Cryptography;
using System.Text;
using Blueprint.Core.Identifiers;

namespace Blueprint.Chat.Access;

/// <summary>
/// Users' API keys: <c>bpc_</c> and 40 random base62 characters (about 238 bits), so a SHA-256 of the key is all that is
/// stored: there is nothing a slow hash would protect. The key is shown once, when its user is created.
/// </summary>
internal static class ChatKeys
{
    /// <summary>What every key starts with.</summary>
    public const string Prefix = "bpc_";

    /// <summary>The longest string looked up as a key.</summary>
    public const int LengthMax = 128;

    public static string New() => Prefix + string.Create(40, 0, static (span, _) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = Base62.Alphabet[RandomNumberGenerator.GetInt32(Base62.Alphabet.Length)];
        }
    });

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Whether <paramref name="key"/> could be a key at all (checked before any lookup).</summary>
    public static bool IsWellFormed(string? key) => key is { Length: <= LengthMax } && key.StartsWith(Prefix, StringComparison.Ordinal);
}
