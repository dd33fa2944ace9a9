namespace Blueprint.Log.Records;

/// <summary>The codec of a record batch's records section (bits 0–2 of the batch attributes).</summary>
public enum CompressionType
{
    /// <summary>Records stored as they are.</summary>
    None = 0,

    /// <summary>GZIP (RFC 1952).</summary>
    Gzip = 1,

    /// <summary>Snappy: raw, or in the xerial snappy-java framing that the Java client writes.</summary>
    Snappy = 2,

    /// <summary>The LZ4 frame format with independent blocks (Kafka's KafkaLZ4BlockOutputStream).</summary>
    Lz4 = 3,

    /// <summary>Zstandard frames (RFC 8878).</summary>
    Zstd = 4,
}

/// <summary>What a batch's timestamps mean (bit 3 of the batch attributes).</summary>
public enum TimestampType
{
    /// <summary>The producer's clock at creation.</summary>
    CreateTime = 0,

    /// <summary>The broker's clock at append.</summary>
    LogAppendTime = 1,
}
