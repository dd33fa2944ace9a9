using System.ComponentModel.DataAnnotations;

namespace Blueprint.Cache;

/// <summary>
/// Settings of a <see cref="BlueprintCache"/>: the distributed (L2) entry lifetime, the near cache's bounds and the
/// coherence machinery (the invalidation channel, the partition sequences and the reconciliation period).
/// Validated when the cache is built, every error at once.
/// </summary>
public sealed class BlueprintCacheOptions
{
    /// <summary>How long an entry lives in the distributed cache unless the call says otherwise.</summary>
    /// <value>1 s to 30 days; default 5 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan Expiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether reads keep a near (in-process) copy. Off, every read is a network round trip.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool NearCacheEnabled { get; set; } = true;

    /// <summary>
    /// The most entries the near cache holds; past it the least recently used go (BitFaster's concurrent LRU).
    /// </summary>
    /// <value>16 to 10,000,000; default 10,000.</value>
    [Range(16, 10_000_000)]
    public int NearEntriesMax { get; set; } = 10_000;

    /// <summary>
    /// How long a near copy may be served at most, whatever the invalidations say: the hard upper bound of staleness
    /// when everything else fails (a write whose invalidation could not be published, a partition of the network).
    /// A call's <c>LocalCacheExpiration</c> may shorten it, never lengthen it.
    /// </summary>
    /// <value>10 ms to 1 day; default 30 s.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan NearTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often each instance reads the partition sequences and drops the near copies of partitions whose sequence
    /// moved past what it applied (an invalidation it never received). With it, a near copy is stale for at most
    /// this interval plus one round trip after a lost invalidation.
    /// </summary>
    /// <value>10 ms to 1 hour; default 1 s.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ReconciliationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many partitions the key space is split into for invalidation sequences (Hazelcast's default is 271).</summary>
    /// <value>1 to 4096; default 271.</value>
    [Range(1, 4096)]
    public int PartitionCount { get; set; } = 271;

    /// <summary>
    /// The prefix of every key and channel this cache uses on the RESP engine: entries are <c>{Prefix}:e:{key}</c>, the
    /// invalidation channel <c>{Prefix}:inv</c>, the partition sequences the hash <c>{{Prefix}}:seq</c> (one hash tag,
    /// so all sequences live in one slot of a cluster and one HGETALL reads them). Caches sharing a prefix share entries.
    /// </summary>
    /// <value>1 to 64 characters of letters, digits, '-', '_' or '.'; default <c>bp-cache</c>.</value>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string Prefix { get; set; } = "bp-cache";

    /// <summary>The longest any one network call of the coherence machinery (publish, sequence read or increment) may take.</summary>
    /// <value>10 ms to 1 minute; default 2 s.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks every rule and reports every broken one at once.</summary>
    /// <exception cref="ArgumentException">One or more settings are out of range; the message names each.</exception>
    public void Validate()
    {
        List<ValidationResult> results = [];
        Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true);
        if (results.Count > 0)
        {
            throw new ArgumentException("Invalid cache options: " + string.Join("; ", results.Select(result => result.ErrorMessage)));
        }
    }
}
