using System.ComponentModel.DataAnnotations;

namespace Blueprint.Storage;

/// <summary>Options of the storage module (configuration section <c>Storage</c>).</summary>
public sealed class StorageOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Storage";

    /// <summary>The S3 API's port. <value>Default 9000; 0 picks a free one.</value></summary>
    [Range(0, 65_535, ErrorMessage = "must be a port from 0 to 65535")]
    public int S3Port { get; set; } = 9000;

    /// <summary>The region the S3 API answers for; a SigV4 credential scope naming another region is refused. <value>Default us-east-1.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a region, such as us-east-1")]
    [RegularExpression("^[a-z0-9-]{1,32}$", ErrorMessage = "must be a region name of lower-case letters, digits and dashes, such as us-east-1")]
    public string Region { get; set; } = "us-east-1";

    /// <summary>
    /// An access key id accepted besides the keys <c>blueprint storage create-key</c> made (as MinIO's root user), for
    /// scripts and tests; set together with <see cref="RootSecretKey"/>. <value>3–128 characters; default none.</value>
    /// </summary>
    [StringLength(128, MinimumLength = 3, ErrorMessage = "must be 3 to 128 characters")]
    public string? RootAccessKey { get; set; }

    /// <summary>The secret of <see cref="RootAccessKey"/>. <value>8–128 characters; default none.</value></summary>
    [StringLength(128, MinimumLength = 8, ErrorMessage = "must be 8 to 128 characters")]
    public string? RootSecretKey { get; set; }

    /// <summary>How far a signed request's time may be from the node's clock. <value>1–60 minutes; default 15 (S3's).</value></summary>
    [Range(1, 60, ErrorMessage = "must be from 1 to 60 minutes")]
    public int ClockSkewMinutes { get; set; } = 15;

    /// <summary>The largest object one PUT may carry. <value>1–5497558138880 bytes; default 5368709120 (S3's 5 GiB).</value></summary>
    [Range(1L, 5L * 1024 * 1024 * 1024 * 1024, ErrorMessage = "must be from 1 to 5497558138880 bytes")]
    public long MaxPutBytes { get; set; } = 5L * 1024 * 1024 * 1024;

    /// <summary>The smallest part of a multipart upload other than the last. <value>0–5368709120 bytes; default 5242880 (S3's 5 MiB).</value></summary>
    [Range(0L, 5L * 1024 * 1024 * 1024, ErrorMessage = "must be from 0 to 5368709120 bytes")]
    public long MinPartBytes { get; set; } = 5L * 1024 * 1024;

    /// <summary>How long an incomplete multipart upload is kept before it is aborted. <value>1–720 hours; default 168.</value></summary>
    [Range(1, 720, ErrorMessage = "must be from 1 to 720 hours")]
    public int AbandonedUploadHours { get; set; } = 168;

    /// <summary>This node's id among the storage nodes. <value>Letters, digits, '-' and '_'; default n1.</value></summary>
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$", ErrorMessage = "must be 1 to 64 letters, digits, '-' or '_'")]
    public string NodeId { get; set; } = "n1";

    /// <summary>
    /// The other storage nodes, as <c>id=http://host:s3port</c> separated by commas; empty for a single node.
    /// <value>Default empty.</value>
    /// </summary>
    [PeerList]
    public string Peers { get; set; } = "";

    /// <summary>
    /// The secret peers present to each other's internal replica API (required with <see cref="Peers"/>; every node of a
    /// cluster has the same). <value>16–256 characters; default none.</value>
    /// </summary>
    [StringLength(256, MinimumLength = 16, ErrorMessage = "must be 16 to 256 characters")]
    public string? ClusterSecret { get; set; }

    /// <summary>N: how many nodes keep each object (capped at the node count). <value>1–7; default 3.</value></summary>
    [Range(1, 7, ErrorMessage = "must be from 1 to 7")]
    public int Replicas { get; set; } = 3;

    /// <summary>R: how many replicas must answer a read; a request may ask for another with <c>x-blueprint-read-quorum</c>. <value>1–7; default 2.</value></summary>
    [Range(1, 7, ErrorMessage = "must be from 1 to 7")]
    public int ReadQuorum { get; set; } = 2;

    /// <summary>W: how many replicas must acknowledge a write; a request may ask for another with <c>x-blueprint-write-quorum</c>. <value>1–7; default 2.</value></summary>
    [Range(1, 7, ErrorMessage = "must be from 1 to 7")]
    public int WriteQuorum { get; set; } = 2;

    /// <summary>How long a call to a peer may take before the peer counts as down for that request. <value>1–300 seconds; default 10.</value></summary>
    [Range(1, 300, ErrorMessage = "must be from 1 to 300 seconds")]
    public int PeerTimeoutSeconds { get; set; } = 10;

    /// <summary>How often hints are handed to their nodes and replicas compare Merkle trees. <value>1–86400 seconds; default 30.</value></summary>
    [Range(1, 86_400, ErrorMessage = "must be from 1 to 86400 seconds")]
    public int AntiEntropySeconds { get; set; } = 30;

    /// <summary>The bandwidth background repair (hinted handoff, read repair, anti-entropy) may use. <value>1–10000 MB/s; default 50.</value></summary>
    [Range(1, 10_000, ErrorMessage = "must be from 1 to 10000 MB/s")]
    public int RepairMegabytesPerSecond { get; set; } = 50;

    /// <summary>How long a delete's tombstone is kept for replicas that missed it. <value>1–8760 hours; default 24.</value></summary>
    [Range(1, 8760, ErrorMessage = "must be from 1 to 8760 hours")]
    public int TombstoneHours { get; set; } = 24;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if ((RootAccessKey is null) != (RootSecretKey is null))
        {
            yield return new ValidationResult($"must be set together with {(RootAccessKey is null ? nameof(RootAccessKey) : nameof(RootSecretKey))}", [RootAccessKey is null ? nameof(RootSecretKey) : nameof(RootAccessKey)]);
        }

        List<(string Id, Uri Address)> peers;
        try
        {
            peers = [.. ParsePeers(Peers)];
        }
        catch (FormatException)
        {
            yield break;
        }

        if (peers.Count > 0 && ClusterSecret is null)
        {
            yield return new ValidationResult($"must be set when {nameof(Peers)} names other nodes (the same on every node), so only peers reach the replica API", [nameof(ClusterSecret)]);
        }

        if (peers.Any(peer => peer.Id == NodeId))
        {
            yield return new ValidationResult($"must not name this node ({NodeId}); it lists the others", [nameof(Peers)]);
        }

        if (ReadQuorum > Replicas || WriteQuorum > Replicas)
        {
            yield return new ValidationResult($"must not exceed {nameof(Replicas)} ({Replicas})", [ReadQuorum > Replicas ? nameof(ReadQuorum) : nameof(WriteQuorum)]);
        }
    }

    /// <summary>Parses <see cref="Peers"/>: each <c>id=http://host:port</c>.</summary>
    public static IEnumerable<(string Id, Uri Address)> ParsePeers(string peers)
    {
        foreach (var entry in peers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !Uri.TryCreate(entry[(equals + 1)..], UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            {
                throw new FormatException($"'{entry}' is not id=http://host:port");
            }

            yield return (entry[..equals], address);
        }
    }

    /// <summary>Checks <see cref="Peers"/>' syntax.</summary>
    [AttributeUsage(AttributeTargets.Property)]
    private sealed class PeerListAttribute : ValidationAttribute
    {
        protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
        {
            try
            {
                var peers = ParsePeers(value as string ?? "").ToList();
                return peers.Select(peer => peer.Id).Distinct(StringComparer.Ordinal).Count() == peers.Count
                    ? ValidationResult.Success
                    : new ValidationResult("must not name a node twice");
            }
            catch (FormatException e)
            {
                return new ValidationResult($"must be id=http://host:port entries separated by commas: {e.Message}");
            }
        }
    }
}
