using System.ComponentModel.DataAnnotations;
using Blueprint.Cache.Patterns;

namespace Blueprint.Caching;

/// <summary>Options of the caching-pattern demos (configuration section <c>Cache:Patterns</c>).</summary>
public sealed class CachePatternsOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cache:Patterns";

    /// <summary>How long a cached item lives: the bound on staleness after a change the cache was not told of. <value>1–86400 seconds; default 60.</value></summary>
    [Range(1, 86_400, ErrorMessage = "must be from 1 to 86400 seconds")]
    public int TtlSeconds { get; set; } = 60;

    /// <summary>The longest value, in UTF-8 bytes. <value>1–1048576; default 4096.</value></summary>
    [Range(1, 1_048_576, ErrorMessage = "must be from 1 to 1048576 bytes")]
    public int ValueBytesMax { get; set; } = 4096;

    /// <summary>How many keys may wait for the database in the write-behind queue. <value>1–1000000; default 10000.</value></summary>
    [Range(1, 1_000_000, ErrorMessage = "must be from 1 to 1000000")]
    public int WriteBehindQueueCapacity { get; set; } = 10_000;

    /// <summary>The most items in one write-behind transaction; at most the queue's capacity. <value>1–10000; default 100.</value></summary>
    [Range(1, 10_000, ErrorMessage = "must be from 1 to 10000")]
    public int WriteBehindBatchSizeMax { get; set; } = 100;

    /// <summary>How long the oldest queued write waits before a partial batch is written: the loss window of a crash. <value>1–3600000 ms; default 1000.</value></summary>
    [Range(1, 3_600_000, ErrorMessage = "must be from 1 to 3600000 ms")]
    public int WriteBehindFlushMilliseconds { get; set; } = 1000;

    /// <summary>
    /// What a write does when the write-behind queue is full: <c>Reject</c> (503 at once) or <c>Wait</c> (up to
    /// <see cref="WriteBehindWaitMilliseconds"/>, then 503). <value>Default Reject.</value>
    /// </summary>
    [EnumDataType(typeof(WriteBehindFullPolicy), ErrorMessage = "must be Reject or Wait")]
    public WriteBehindFullPolicy WriteBehindFullPolicy { get; set; } = WriteBehindFullPolicy.Reject;

    /// <summary>How long a write waits for room under the Wait policy. <value>1–60000 ms; default 5000.</value></summary>
    [Range(1, 60_000, ErrorMessage = "must be from 1 to 60000 ms")]
    public int WriteBehindWaitMilliseconds { get; set; } = 5000;

    /// <summary>How many times a write-behind batch is tried before it is dead-lettered. <value>1–20; default 5.</value></summary>
    [Range(1, 20, ErrorMessage = "must be from 1 to 20")]
    public int WriteBehindWriteAttemptsMax { get; set; } = 5;

    /// <summary>The pause after the first failed try of a batch; it doubles after each. <value>1–60000 ms; default 100.</value></summary>
    [Range(1, 60_000, ErrorMessage = "must be from 1 to 60000 ms")]
    public int WriteBehindRetryDelayMilliseconds { get; set; } = 100;

    /// <summary>The longest pause between two tries of a batch. <value>1–600000 ms, at least the first pause; default 5000.</value></summary>
    [Range(1, 600_000, ErrorMessage = "must be from 1 to 600000 ms")]
    public int WriteBehindRetryDelayMaxMilliseconds { get; set; } = 5000;

    /// <summary>The prefix of every KV key the demos use; each pattern adds its name. <value>Default <c>bp:cache:patterns:</c>.</value></summary>
    [RegularExpression(@"^[A-Za-z0-9:_\-.]{1,64}$", ErrorMessage = "must be 1 to 64 characters of letters, digits, ':', '_', '-' or '.'")]
    public string KeyPrefix { get; set; } = "bp:cache:patterns:";

    /// <summary>The TTL as a span.</summary>
    public TimeSpan Ttl() => TimeSpan.FromSeconds(TtlSeconds);

    /// <summary>The write-behind's limits and policies.</summary>
    public WriteBehindOptions WriteBehind() => new()
    {
        QueueCapacity = WriteBehindQueueCapacity,
        BatchSizeMax = WriteBehindBatchSizeMax,
        FlushDelayMax = TimeSpan.FromMilliseconds(WriteBehindFlushMilliseconds),
        FullPolicy = WriteBehindFullPolicy,
        WriteAttemptsMax = WriteBehindWriteAttemptsMax,
        RetryDelayFirst = TimeSpan.FromMilliseconds(WriteBehindRetryDelayMilliseconds),
        RetryDelayMax = TimeSpan.FromMilliseconds(WriteBehindRetryDelayMaxMilliseconds),
    };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (WriteBehindBatchSizeMax > WriteBehindQueueCapacity)
        {
            yield return new ValidationResult(
                $"must be at most {nameof(WriteBehindQueueCapacity)} ({WriteBehindQueueCapacity}): a batch is taken from the queue", [nameof(WriteBehindBatchSizeMax)]);
        }

        if (WriteBehindRetryDelayMaxMilliseconds < WriteBehindRetryDelayMilliseconds)
        {
            yield return new ValidationResult(
                $"must be at least {nameof(WriteBehindRetryDelayMilliseconds)} ({WriteBehindRetryDelayMilliseconds})", [nameof(WriteBehindRetryDelayMaxMilliseconds)]);
        }
    }
}
