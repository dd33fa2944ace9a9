using System.Security.Cryptography;
using Blueprint.Storage.Auth;
using Blueprint.Storage.Local;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage;

/// <summary>
/// The access keys the S3 API accepts: those <c>blueprint storage create-key</c> stored in the node's metadata database
/// (read again when an unknown key arrives, at most once a second, so a key made while the node runs works at once),
/// and the configured root key. SigV4 needs the secret itself to compute the signature, so secrets are stored as
/// S3 and MinIO store them: retrievable by whoever can read the data directory.
/// </summary>
internal sealed class StorageKeys
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    private readonly MetaStore _meta;
    private readonly StorageOptions _options;
    private readonly TimeProvider _time;
    private volatile IReadOnlyDictionary<string, string> _keys;
    private long _loadedAt = long.MinValue;

    public StorageKeys(LocalStore store, IOptions<StorageOptions> options, TimeProvider time)
    {
        _meta = store.Meta;
        _options = options.Value;
        _time = time;
        _keys = new Dictionary<string, string>();
        Verifier = new SigV4Verifier(SecretFor, _options.Region, TimeSpan.FromMinutes(_options.ClockSkewMinutes), time);
    }

    public SigV4Verifier Verifier { get; }

    /// <summary>Makes a new key pair and stores it.</summary>
    public static async Task<(string AccessKey, string Secret)> CreateAsync(MetaStore meta, TimeProvider time, CancellationToken cancellationToken)
    {
        var accessKey = "BP" + RandomString(Alphabet, 18);
        var secret = RandomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
        await meta.AddAccessKeyAsync(accessKey, secret, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return (accessKey, secret);
    }

    private string? SecretFor(string accessKey)
    {
        if (_options.RootAccessKey is { } root && _options.RootSecretKey is { } rootSecret && string.Equals(accessKey, root, StringComparison.Ordinal))
        {
            return rootSecret;
        }

        if (_keys.TryGetValue(accessKey, out var secret))
        {
            return secret;
        }

        var now = _time.GetTimestamp();
        var loadedAt = Interlocked.Read(ref _loadedAt);
        if (loadedAt != long.MinValue && _time.GetElapsedTime(loadedAt, now) < TimeSpan.FromSeconds(1))
        {
            return null;
        }

        Interlocked.Exchange(ref _loadedAt, now);
        _keys = _meta.AccessKeysAsync(CancellationToken.None).GetAwaiter().GetResult();
        return _keys.GetValueOrDefault(accessKey);
    }

    private static string RandomString(string alphabet, int length) =>
        string.Create(length, alphabet, static (span, alphabet) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
}
