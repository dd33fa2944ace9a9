using System.Collections.Frozen;

namespace Blueprint.Log.Kafka.Protocol;

/// <summary>One API this broker implements and the inclusive range of versions it speaks.</summary>
/// <param name="ApiKey">The API.</param>
/// <param name="MinVersion">The oldest version, inclusive.</param>
/// <param name="MaxVersion">The newest version, inclusive.</param>
public readonly record struct SupportedApiVersion(ApiKey ApiKey, short MinVersion, short MaxVersion);

/// <summary>
/// The API versions this broker advertises in its ApiVersions response, and the header and encoding rules that depend
/// on (API, version).
/// </summary>
/// <remarks>
/// <para>Clients pick, per API, the highest version both sides support. The minimums matter to librdkafka too: it
/// switches features on only when the broker's range overlaps the versions it lists for them
/// (<c>rdkafka_feature.c</c>): MsgVer2 needs Produce 3 and Fetch 4, the balanced consumer needs FindCoordinator,
/// JoinGroup, SyncGroup, Heartbeat and LeaveGroup 0, OffsetCommit 1–2 and OffsetFetch 1, time-based offsets need
/// ListOffsets 1, the idempotent producer InitProducerId 0, ZSTD Produce 7 and Fetch 10. Offset validation (KIP-320)
/// has no feature flag: librdkafka validates a position that carries a leader epoch with OffsetForLeaderEpoch 2, and
/// skips validation only when the broker does not list the API; the Java consumer needs version 3.</para>
/// <para>Of the advertised versions only ApiVersions 3 is flexible (KIP-482); <see cref="IsFlexible"/> knows where
/// flexibility starts for every implemented API, so that raising a maximum later needs no change to the header code.</para>
/// </remarks>
public static class ApiVersionTable
{
    private static readonly SupportedApiVersion[] SupportedList =
    [
        new(ApiKey.Produce, 3, 8),
        new(ApiKey.Fetch, 4, 11),
        new(ApiKey.ListOffsets, 1, 5),
        new(ApiKey.Metadata, 0, 8),
        new(ApiKey.OffsetCommit, 2, 7),
        new(ApiKey.OffsetFetch, 1, 5),
        new(ApiKey.FindCoordinator, 0, 2),
        new(ApiKey.JoinGroup, 0, 5),
        new(ApiKey.Heartbeat, 0, 3),
        new(ApiKey.LeaveGroup, 0, 3),
        new(ApiKey.SyncGroup, 0, 3),
        new(ApiKey.DescribeGroups, 0, 4),
        new(ApiKey.ListGroups, 0, 2),
        new(ApiKey.ApiVersions, 0, 3),
        new(ApiKey.CreateTopics, 0, 4),
        new(ApiKey.DeleteTopics, 0, 3),
        new(ApiKey.InitProducerId, 0, 1),
        new(ApiKey.OffsetForLeaderEpoch, 0, 3),
    ];

    private static readonly FrozenDictionary<ApiKey, SupportedApiVersion> ByKey =
        SupportedList.ToFrozenDictionary(entry => entry.ApiKey);

    /// <summary>Every implemented API with its version range, in API key order (as the ApiVersions response lists them).</summary>
    public static IReadOnlyList<SupportedApiVersion> Supported { get; } = SupportedList;

    /// <summary>Finds the version range of <paramref name="apiKey"/>, if this broker implements it.</summary>
    /// <param name="apiKey">The API.</param>
    /// <param name="range">The versions this broker speaks.</param>
    /// <returns>Whether the API is implemented.</returns>
    public static bool TryGetRange(ApiKey apiKey, out SupportedApiVersion range) => ByKey.TryGetValue(apiKey, out range);

    /// <summary>Whether this broker implements <paramref name="apiKey"/> at <paramref name="version"/>.</summary>
    /// <param name="apiKey">The API.</param>
    /// <param name="version">The version.</param>
    public static bool IsSupported(ApiKey apiKey, short version) =>
        ByKey.TryGetValue(apiKey, out SupportedApiVersion range) && version >= range.MinVersion && version <= range.MaxVersion;

    /// <summary>
    /// Whether (<paramref name="apiKey"/>, <paramref name="version"/>) uses the flexible encoding: compact strings,
    /// bytes and arrays, and tagged fields. True from Kafka's first flexible version of each implemented API, whether
    /// or not this broker speaks that version; false for APIs it does not implement.
    /// </summary>
    /// <param name="apiKey">The API.</param>
    /// <param name="version">The version.</param>
    public static bool IsFlexible(ApiKey apiKey, short version) =>
        FirstFlexibleVersion(apiKey) is { } first && version >= first;

    /// <summary>The request header version: 2 (with tagged fields) for flexible versions, else 1.</summary>
    /// <param name="apiKey">The API.</param>
    /// <param name="version">The request's version.</param>
    public static short RequestHeaderVersion(ApiKey apiKey, short version) => IsFlexible(apiKey, version) ? (short)2 : (short)1;

    /// <summary>
    /// The response header version: 1 (with tagged fields) for flexible versions, else 0. ApiVersions responses always
    /// use 0, so that a client that does not yet know the broker's versions can read the header of any of them.
    /// </summary>
    /// <param name="apiKey">The API.</param>
    /// <param name="version">The response's version.</param>
    public static short ResponseHeaderVersion(ApiKey apiKey, short version) =>
        apiKey != ApiKey.ApiVersions && IsFlexible(apiKey, version) ? (short)1 : (short)0;

    /// <summary>Kafka's first flexible version of each implemented API (its messages' <c>flexibleVersions</c>).</summary>
    private static short? FirstFlexibleVersion(ApiKey apiKey) => apiKey switch
    {
        ApiKey.Produce => 9,
        ApiKey.Fetch => 12,
        ApiKey.ListOffsets => 6,
        ApiKey.Metadata => 9,
        ApiKey.OffsetCommit => 8,
        ApiKey.OffsetFetch => 6,
        ApiKey.FindCoordinator => 3,
        ApiKey.JoinGroup => 6,
        ApiKey.Heartbeat => 4,
        ApiKey.LeaveGroup => 4,
        ApiKey.SyncGroup => 4,
        ApiKey.DescribeGroups => 5,
        ApiKey.ListGroups => 3,
        ApiKey.ApiVersions => 3,
        ApiKey.CreateTopics => 5,
        ApiKey.DeleteTopics => 4,
        ApiKey.InitProducerId => 2,
        ApiKey.OffsetForLeaderEpoch => 4,
        _ => null,
    };

    /// <summary>Checks a version about to be read; returns whether it is flexible.</summary>
    /// <exception cref="KafkaProtocolException">The broker does not speak that version.</exception>
    internal static bool CheckRead(ApiKey apiKey, short version)
    {
        if (!IsSupported(apiKey, version))
        {
            throw new KafkaProtocolException($"{apiKey} version {version} is not supported ({Describe(apiKey)}).");
        }

        return IsFlexible(apiKey, version);
    }

    /// <summary>Checks a version about to be written; returns whether it is flexible.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The broker does not speak that version: a programmer error.</exception>
    internal static bool CheckWrite(ApiKey apiKey, short version)
    {
        if (!IsSupported(apiKey, version))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, $"{apiKey} version {version} is not supported ({Describe(apiKey)}).");
        }

        return IsFlexible(apiKey, version);
    }

    private static string Describe(ApiKey apiKey) =>
        ByKey.TryGetValue(apiKey, out SupportedApiVersion range) ? $"versions {range.MinVersion}-{range.MaxVersion}" : "not implemented";
}
