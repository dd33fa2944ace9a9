using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Blueprint.Core.Identifiers;
using Blueprint.Shortener.Storage;
using Blueprint.Sql;

namespace Blueprint.Shortener.Access;

/// <summary>
/// API keys for managing links. A key is 40 random base62 characters after <c>bpk_</c> (about 238
/// bits), so storing its SHA-256 is enough: there is nothing to brute-force that a slow hash would
/// protect. Only the hash and an 8-character prefix (to tell keys apart) are stored.
/// </summary>
public static class ApiKeys
{
    /// <summary>What every key starts with.</summary>
    public const string Prefix = "bpk_";

    private const int RandomLength = 40;

    /// <summary>Creates a key in <paramref name="database"/> (the node's own), migrating it first if needed, and returns the key: it is shown once and never stored.</summary>
    public static async Task<string> CreateAsync(ISqlDatabase database, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(timeProvider);
        await database.MigrateAsync(LinkSql.ModuleName, ShortenerSchema.Migrations, cancellationToken).ConfigureAwait(false);
        var key = New();
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = LinkSql.Command(connection,
                "INSERT INTO shortener_api_keys (hash, prefix, created_at) VALUES (@hash, @prefix, @at)",
                ("@hash", Hash(key)), ("@prefix", key[..(Prefix.Length + 8)]), ("@at", timeProvider.GetUtcNow().ToUnixTimeMilliseconds()));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return key;
    }

    internal static string New()
    {
        var builder = new StringBuilder(Prefix, Prefix.Length + RandomLength);
        for (var i = 0; i < RandomLength; i++)
        {
            builder.Append(Base62.Alphabet[RandomNumberGenerator.GetInt32(Base62.Alphabet.Length)]);
        }

        return builder.ToString();
    }

    internal static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>Checks presented keys against the node's database, remembering good ones for a minute.</summary>
internal sealed class ApiKeyVerifier(ShardRouter store, TimeProvider timeProvider)
{
    private static readonly TimeSpan Remember = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _known = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="key"/> is a key of this node.</summary>
    public async ValueTask<bool> IsValidAsync(string? key, CancellationToken cancellationToken)
    {
        if (key is null || !key.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) || key.Length > 128)
        {
            return false;
        }

        var hash = ApiKeys.Hash(key);
        var now = timeProvider.GetUtcNow();
        if (_known.TryGetValue(hash, out var until) && until > now)
        {
            return true;
        }

        var connection = await store.Primary.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = LinkSql.Command(connection, "SELECT COUNT(*) FROM shortener_api_keys WHERE hash = @hash", ("@hash", hash));
            var found = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
            if (found)
            {
                // Bounded: only real keys are remembered, and there are few.
                _known[hash] = now + Remember;
            }

            return found;
        }
    }
}
