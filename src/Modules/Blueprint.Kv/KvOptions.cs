using System.ComponentModel.DataAnnotations;

namespace Blueprint.Kv;

/// <summary>Options of the kv module (configuration section <c>Kv</c>).</summary>
public sealed class KvOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Kv";

    /// <summary>The RESP port of the embedded server. <value>1–65535; default 6379; flag <c>--resp-port</c>.</value></summary>
    [Range(1, 65535, ErrorMessage = "must be a port from 1 to 65535")]
    public int Port { get; set; } = 6379;

    /// <summary>
    /// A StackExchange.Redis connection string to an external Redis or Garnet, for example
    /// <c>127.0.0.1:6379</c>. When set, the embedded server does not start and every module talks
    /// to that server instead. <value>Default empty: embedded.</value>
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Main-log memory of the embedded server, the bound on what it holds in memory. <value>A size such as <c>256m</c> or <c>1g</c>; default <c>256m</c>.</value></summary>
    [RegularExpression(SizePattern, ErrorMessage = SizeMessage)]
    public string MemorySize { get; set; } = "256m";

    /// <summary>Starting size of the embedded server's hash index. <value>A size; default <c>16m</c>.</value></summary>
    [RegularExpression(SizePattern, ErrorMessage = SizeMessage)]
    public string IndexSize { get; set; } = "16m";

    /// <summary>
    /// How often the append-only file is committed to disk, in milliseconds; 0 commits after every
    /// operation. <value>0–10000; default 0.</value>
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "must be from 0 (every operation) to 10000 milliseconds")]
    public int AofCommitFrequencyMs { get; set; }

    /// <summary>
    /// How often the embedded server takes a checkpoint (BGSAVE), which also truncates the
    /// append-only file: the bound on its growth and on the replay at the next start. A checkpoint is
    /// always taken at a graceful stop. <value>0 (only at stop) or 10–86400 seconds; default 300.</value>
    /// </summary>
    [Range(0, 86_400, ErrorMessage = "must be 0 (only at stop) or from 10 to 86400 seconds")]
    public int CheckpointIntervalSeconds { get; set; } = 300;

    /// <summary>Whether the embedded server keeps an append-only file and checkpoints under the data directory. <value>Default true.</value></summary>
    public bool Persistence { get; set; } = true;

    /// <summary>How long connecting to, or one command against, the server may take. <value>100–60000 ms; default 5000.</value></summary>
    [Range(100, 60_000, ErrorMessage = "must be from 100 to 60000 milliseconds")]
    public int TimeoutMs { get; set; } = 5_000;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CheckpointIntervalSeconds is > 0 and < 10)
        {
            yield return new ValidationResult("must be 0 (only at stop) or from 10 to 86400 seconds", [nameof(CheckpointIntervalSeconds)]);
        }
    }

    /// <summary>Whether an external server is configured.</summary>
    public bool IsExternal => !string.IsNullOrWhiteSpace(ConnectionString);

    private const string SizePattern = "^[0-9]+[kKmMgG]?$";
    private const string SizeMessage = "must be a size such as 64m, 256m or 1g";
}
