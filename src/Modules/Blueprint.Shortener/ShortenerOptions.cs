using System.ComponentModel.DataAnnotations;

namespace Blueprint.Shortener;

/// <summary>Options of the shortener module (configuration section <c>Shortener</c>).</summary>
public sealed class ShortenerOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Shortener";

    /// <summary>
    /// The public base of short URLs, for example <c>https://sho.rt</c>. Empty: the scheme and host
    /// of each create request. Its host is also refused as a target (a redirect loop).
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>Whether links may be created without an API key, limited per client IP. <value>Default false.</value></summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>How many links one client IP may create per minute without a key. <value>1–100000; default 10.</value></summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int AnonymousCreatesPerMinute { get; set; } = 10;

    /// <summary>How many IDs a node leases from the KV at once. <value>1–1000000; default 1000.</value></summary>
    [Range(1, 1_000_000, ErrorMessage = "must be from 1 to 1000000")]
    public int IdBlockSize { get; set; } = 1000;

    /// <summary>The longest target URL, in characters. <value>16–65536; default 2048.</value></summary>
    [Range(16, 65_536, ErrorMessage = "must be from 16 to 65536")]
    public int UrlLengthMax { get; set; } = 2048;

    /// <summary>Domains (and their subdomains) no link may point at.</summary>
    public List<string> BlockedDomains { get; set; } = [];

    /// <summary>How many links each node keeps in its in-process near cache; 0 turns it off. <value>0–10000000; default 100000.</value></summary>
    [Range(0, 10_000_000, ErrorMessage = "must be from 0 to 10000000")]
    public int NearCacheSize { get; set; } = 100_000;

    /// <summary>How long a near-cache entry lives: the bound on staleness if an invalidation is lost. <value>1–86400 seconds; default 300.</value></summary>
    [Range(1, 86_400, ErrorMessage = "must be from 1 to 86400 seconds")]
    public int NearCacheTtlSeconds { get; set; } = 300;

    /// <summary>How long a link stays in the KV cache after a read. <value>1–604800 seconds; default 3600.</value></summary>
    [Range(1, 604_800, ErrorMessage = "must be from 1 to 604800 seconds")]
    public int CacheTtlSeconds { get; set; } = 3600;

    /// <summary>How long the KV remembers that a code does not exist (or was deleted). <value>1–3600 seconds; default 30.</value></summary>
    [Range(1, 3600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int NegativeCacheTtlSeconds { get; set; } = 30;

    /// <summary>How many codes the Bloom filter is sized for before it grows at the next rebuild. <value>1000–1000000000; default 1000000.</value></summary>
    [Range(1000, 1_000_000_000, ErrorMessage = "must be from 1000 to 1000000000")]
    public long BloomExpectedCodes { get; set; } = 1_000_000;

    /// <summary>The Bloom filter's target false-positive rate. <value>0.0001–0.1; default 0.01.</value></summary>
    [Range(0.0001, 0.1, ErrorMessage = "must be from 0.0001 to 0.1")]
    public double BloomFalsePositiveRate { get; set; } = 0.01;

    /// <summary>How often the Bloom filter is rebuilt from SQL (sheds deleted codes). <value>1–10080 minutes; default 60.</value></summary>
    [Range(1, 10_080, ErrorMessage = "must be from 1 to 10080 minutes")]
    public int BloomRebuildMinutes { get; set; } = 60;

    /// <summary>How many clicks may wait for the write-behind; beyond it clicks are dropped and counted. <value>1–10000000; default 100000.</value></summary>
    [Range(1, 10_000_000, ErrorMessage = "must be from 1 to 10000000")]
    public int ClickBufferSize { get; set; } = 100_000;

    /// <summary>The most clicks aggregated into one SQL transaction (per shard). <value>1–10000000; default 100000.</value></summary>
    [Range(1, 10_000_000, ErrorMessage = "must be from 1 to 10000000")]
    public int ClickBatchSize { get; set; } = 100_000;

    /// <summary>How long clicks gather before a write. <value>10–60000 ms; default 1000.</value></summary>
    [Range(10, 60_000, ErrorMessage = "must be from 10 to 60000 ms")]
    public int ClickFlushMilliseconds { get; set; } = 1000;

    /// <summary>
    /// SQL databases that hold the links, by consistent hashing of the code. Empty (the default):
    /// the node's own database. API keys and settings always live in the node's database.
    /// </summary>
    public List<ShardOptions> Shards { get; set; } = [];

    /// <summary>The prefix of every KV key and channel the module uses. <value>Default <c>bp:short:</c>.</value></summary>
    [RegularExpression(@"^[A-Za-z0-9:_\-.]{1,64}$", ErrorMessage = "must be 1 to 64 characters of letters, digits, ':', '_', '-' or '.'")]
    public string KeyPrefix { get; set; } = "bp:short:";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(BaseUrl)
            && (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult("must be an absolute http or https URL, e.g. https://sho.rt", [nameof(BaseUrl)]);
        }

        for (var i = 0; i < BlockedDomains.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(BlockedDomains[i]) && !Validation.UrlPolicy.TryNormalizeHost(BlockedDomains[i], out _))
            {
                yield return new ValidationResult($"'{BlockedDomains[i]}' is not a domain name, e.g. example.com", [$"{nameof(BlockedDomains)}:{i}"]);
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Shards.Count; i++)
        {
            var shard = Shards[i];
            if (string.IsNullOrWhiteSpace(shard.Name) || !names.Add(shard.Name))
            {
                yield return new ValidationResult("each shard needs a unique Name", [$"{nameof(Shards)}:{i}:{nameof(ShardOptions.Name)}"]);
            }

            if (shard.Provider is not ("sqlite" or "postgres"))
            {
                yield return new ValidationResult("must be 'sqlite' or 'postgres'", [$"{nameof(Shards)}:{i}:{nameof(ShardOptions.Provider)}"]);
            }
            else if (shard.Provider == "postgres" && string.IsNullOrWhiteSpace(shard.ConnectionString))
            {
                yield return new ValidationResult("must be set for a postgres shard", [$"{nameof(Shards)}:{i}:{nameof(ShardOptions.ConnectionString)}"]);
            }
        }
    }
}

/// <summary>One SQL database holding a share of the links.</summary>
public sealed class ShardOptions
{
    /// <summary>The shard's name: its place on the hash ring. Renaming a shard moves its codes.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>The connection string; for SQLite it defaults to <c>&lt;data-dir&gt;/shortener/&lt;name&gt;.db</c>.</summary>
    public string? ConnectionString { get; set; }
}
