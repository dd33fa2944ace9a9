using System.ComponentModel.DataAnnotations;

namespace Blueprint.Storage;

/// <summary>Options of the storage module (configuration section <c>Storage</c>).</summary>
public sealed class StorageOptions
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
}
