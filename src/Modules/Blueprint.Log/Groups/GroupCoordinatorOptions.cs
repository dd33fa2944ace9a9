using System.Globalization;

namespace Blueprint.Log.Groups;

/// <summary>
/// Settings of the consumer-group coordinator, named after the Kafka broker settings they mirror. Every limit is
/// enforced by refusing the request with Kafka's error code rather than by growing without bound.
/// </summary>
public sealed record GroupCoordinatorOptions
{
    /// <summary>The shortest session timeout a member may ask for (group.min.session.timeout.ms).</summary>
    /// <value>Positive, at most <see cref="MaxSessionTimeout"/>; default 6 s.</value>
    public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>The longest session timeout a member may ask for (group.max.session.timeout.ms).</summary>
    /// <value>At least <see cref="MinSessionTimeout"/>, at most 1 hour; default 30 min.</value>
    public TimeSpan MaxSessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long the first rebalance of an empty group waits for more members (group.initial.rebalance.delay.ms). The wait
    /// restarts while new members keep arriving, up to the group's rebalance timeout. Zero completes the first join
    /// as soon as every known member has joined.
    /// </summary>
    /// <value>0 to 5 min; default 3 s.</value>
    public TimeSpan InitialRebalanceDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The most members one group holds (group.max.size); a join beyond it gets <c>GroupMaxSizeReached</c>.</summary>
    /// <value>1 to 100 000; default 1000.</value>
    public int MaxGroupSize { get; init; } = 1000;

    /// <summary>The most UTF-8 bytes of an offset commit's metadata string (offset.metadata.max.bytes); longer gets <c>OffsetMetadataTooLarge</c>.</summary>
    /// <value>0 to 1 MiB; default 4096.</value>
    public int MaxMetadataBytes { get; init; } = 4096;

    /// <summary>
    /// How long the offsets of a group stay after it became empty (offsets.retention.minutes); for a group that only
    /// commits (no members ever), how long each offset stays after its last commit.
    /// </summary>
    /// <value>At least 1 min; default 7 days.</value>
    public TimeSpan OffsetsRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How often expired offsets and empty groups are removed (offsets.retention.check.interval.ms).</summary>
    /// <value>1 s to 1 day; default 10 min.</value>
    public TimeSpan OffsetsRetentionCheckInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether an offset commit completes only after an fsync of the journal covering it. False: once written to the OS.</summary>
    /// <value>Default true.</value>
    public bool FsyncCommits { get; init; } = true;

    /// <summary>The most groups the coordinator holds, counting empty groups that only keep offsets; a new group beyond it gets <c>CoordinatorNotAvailable</c>.</summary>
    /// <value>1 to 10 000 000; default 100 000.</value>
    public int MaxGroups { get; init; } = 100_000;

    /// <summary>The longest group id in characters; longer gets <c>InvalidGroupId</c>.</summary>
    /// <value>1 to 4096; default 255.</value>
    public int MaxGroupIdLength { get; init; } = 255;

    /// <summary>The most protocols (assignors) one member may offer in a join; more gets <c>InvalidRequest</c>.</summary>
    /// <value>1 to 1024; default 64.</value>
    public int MaxProtocolsPerMember { get; init; } = 64;

    /// <summary>The most bytes of protocol names and metadata one member may send in a join; more gets <c>InvalidRequest</c>.</summary>
    /// <value>1 KiB to 64 MiB; default 1 MiB.</value>
    public int MaxMemberMetadataBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// The most bytes of one member's assignment in the leader's SyncGroup. A larger one fails the generation, as a
    /// group record too large to store does in Kafka: every waiting member gets <c>UnknownServerError</c> and the group
    /// rebalances.
    /// </summary>
    /// <value>1 KiB to 64 MiB; default 1 MiB.</value>
    public int MaxAssignmentBytes { get; init; } = 1024 * 1024;

    /// <summary>The journal is rewritten with only the latest values once it is this large and twice its size after the last rewrite.</summary>
    /// <value>4 KiB to 16 GiB; default 16 MiB.</value>
    public long JournalCompactionMinBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Every problem with these settings, each naming the setting, its value and the allowed range; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        CheckRange(problems, nameof(MinSessionTimeout), MinSessionTimeout, TimeSpan.FromMilliseconds(1), MaxSessionTimeout);
        CheckRange(problems, nameof(MaxSessionTimeout), MaxSessionTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        CheckRange(problems, nameof(InitialRebalanceDelay), InitialRebalanceDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        CheckRange(problems, nameof(MaxGroupSize), MaxGroupSize, 1, 100_000);
        CheckRange(problems, nameof(MaxMetadataBytes), MaxMetadataBytes, 0, 1024 * 1024);
        CheckRange(problems, nameof(OffsetsRetention), OffsetsRetention, TimeSpan.FromMinutes(1), TimeSpan.MaxValue);
        CheckRange(problems, nameof(OffsetsRetentionCheckInterval), OffsetsRetentionCheckInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        CheckRange(problems, nameof(MaxGroups), MaxGroups, 1, 10_000_000);
        CheckRange(problems, nameof(MaxGroupIdLength), MaxGroupIdLength, 1, 4096);
        CheckRange(problems, nameof(MaxProtocolsPerMember), MaxProtocolsPerMember, 1, 1024);
        CheckRange(problems, nameof(MaxMemberMetadataBytes), MaxMemberMetadataBytes, 1024, 64 * 1024 * 1024);
        CheckRange(problems, nameof(MaxAssignmentBytes), MaxAssignmentBytes, 1024, 64 * 1024 * 1024);
        CheckRange(problems, nameof(JournalCompactionMinBytes), JournalCompactionMinBytes, 4096, 16L * 1024 * 1024 * 1024);
        return problems;
    }

    private static void CheckRange<T>(List<string> problems, string name, T value, T min, T max)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} is {value}; it must be between {min} and {max}."));
        }
    }
}
