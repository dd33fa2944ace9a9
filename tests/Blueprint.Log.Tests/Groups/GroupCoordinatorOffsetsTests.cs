using Blueprint.Log.Groups;
using Blueprint.Log.Kafka;
using static Blueprint.Log.Tests.Groups.GroupHarness;

namespace Blueprint.Log.Tests.Groups;

public sealed class GroupCoordinatorOffsetsTests
{
    private static OffsetCommitCall Simple(string group, params OffsetCommitEntry[] offsets) => new(group, -1, "", null, offsets);

    private static OffsetCommitCall ByMember(JoinGroupResult member, params OffsetCommitEntry[] offsets) =>
        new(Group, member.GenerationId, member.MemberId, null, offsets);

    private static OffsetCommitEntry At(string topic, int partition, long offset, string? metadata = null, int leaderEpoch = -1) =>
        new(topic, partition, offset, leaderEpoch, metadata);

    private static FetchedOffset FetchOne(GroupHarness h, string group, string topic, int partition) =>
        h.Coordinator.FetchOffsets(group, [(topic, [partition])]).Offsets.Single();

    [Fact]
    public async Task Commit_SimpleWithoutGroup_IsStoredAndFetched()
    {
        await using var h = new GroupHarness();

        var results = await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 42, "note", 3), At("payments", 1, 7)), TestContext.Current.CancellationToken);

        Assert.Equal([ErrorCode.None, ErrorCode.None], results.Select(r => r.Error));
        Assert.Equal(new FetchedOffset("payments", 0, 42, 3, "note", ErrorCode.None), FetchOne(h, "tool", "payments", 0));
        Assert.Equal(new FetchedOffset("payments", 1, 7, -1, "", ErrorCode.None), FetchOne(h, "tool", "payments", 1));
        Assert.Equal(new FetchedOffset("payments", 2, -1, -1, "", ErrorCode.None), FetchOne(h, "tool", "payments", 2));
        Assert.Equal(-1, FetchOne(h, "unknown-group", "payments", 0).Offset);
        Assert.Contains(("tool", "", "Empty"), h.Coordinator.ListGroups());
    }

    [Fact]
    public async Task Fetch_AllOffsets_OrderedByTopicAndPartition()
    {
        await using var h = new GroupHarness();
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("zeta", 1, 11), At("alpha", 2, 22), At("alpha", 0, 20)), TestContext.Current.CancellationToken);

        var all = h.Coordinator.FetchOffsets("tool", null);

        Assert.Equal(ErrorCode.None, all.Error);
        Assert.Equal([("alpha", 0, 20L), ("alpha", 2, 22L), ("zeta", 1, 11L)], all.Offsets.Select(o => (o.Topic, o.Partition, o.Offset)));
        Assert.Empty(h.Coordinator.FetchOffsets("nobody", null).Offsets);
    }

    [Fact]
    public async Task Commit_ByCurrentMember_IsStored()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);

        var results = await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[1], At("payments", 0, 100)), TestContext.Current.CancellationToken);

        Assert.Equal(ErrorCode.None, results.Single().Error);
        Assert.Equal(100, FetchOne(h, Group, "payments", 0).Offset);
    }

    [Fact]
    public async Task Commit_WrongGenerationUnknownMemberOrNoMembership_IsRefusedAndNothingStored()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);
        var entry = At("payments", 0, 100);

        var wrongGeneration = await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[0] with { GenerationId = 5 }, entry), TestContext.Current.CancellationToken);
        var unknownMember = await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[0] with { MemberId = "stranger" }, entry), TestContext.Current.CancellationToken);
        var simpleToActiveGroup = await h.Coordinator.CommitOffsetsAsync(Simple(Group, entry), TestContext.Current.CancellationToken);
        var generationOfUnknownGroup = await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall("other", 3, "m", null, [entry]), TestContext.Current.CancellationToken);

        Assert.Equal(ErrorCode.IllegalGeneration, wrongGeneration.Single().Error);
        Assert.Equal(ErrorCode.UnknownMemberId, unknownMember.Single().Error);
        Assert.Equal(ErrorCode.UnknownMemberId, simpleToActiveGroup.Single().Error);
        Assert.Equal(ErrorCode.IllegalGeneration, generationOfUnknownGroup.Single().Error);
        Assert.Equal(-1, FetchOne(h, Group, "payments", 0).Offset);
        Assert.Equal(-1, FetchOne(h, "other", "payments", 0).Offset);
    }

    [Fact]
    public async Task Commit_DuringRebalance_RefusedOnlyWhileAwaitingTheAssignment()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);
        _ = h.Join();

        // PreparingRebalance: the previous generation's owners still commit before they rejoin.
        var preparing = await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[1], At("payments", 0, 5)), TestContext.Current.CancellationToken);
        var rejoins = await Task.WhenAll(h.Join(gen1[0].MemberId), h.Join(gen1[1].MemberId));
        var completing = await h.Coordinator.CommitOffsetsAsync(ByMember(rejoins[1], At("payments", 0, 6)), TestContext.Current.CancellationToken);

        Assert.Equal(ErrorCode.None, preparing.Single().Error);
        Assert.Equal(ErrorCode.RebalanceInProgress, completing.Single().Error);
        Assert.Equal(5, FetchOne(h, Group, "payments", 0).Offset);
    }

    [Fact]
    public async Task Commit_FencedStaticInstance_IsRefused()
    {
        await using var h = new GroupHarness();
        var first = h.Join(instanceId: "host-1");
        h.Advance(TimeSpan.FromSeconds(3));
        var old = await first;
        await h.SyncAll([old]);
        var restarted = await Immediate(h.Join(instanceId: "host-1"));

        var fenced = await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall(Group, old.GenerationId, old.MemberId, "host-1", [At("payments", 0, 1)]), TestContext.Current.CancellationToken);
        var current = await h.Coordinator.CommitOffsetsAsync(new OffsetCommitCall(Group, restarted.GenerationId, restarted.MemberId, "host-1", [At("payments", 0, 2)]), TestContext.Current.CancellationToken);

        Assert.Equal(ErrorCode.FencedInstanceId, fenced.Single().Error);
        Assert.Equal(ErrorCode.None, current.Single().Error);
        Assert.Equal(2, FetchOne(h, Group, "payments", 0).Offset);
    }

    [Fact]
    public async Task Commit_MetadataTooLarge_RefusesThatPartitionOnly()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { MaxMetadataBytes = 8 });

        var results = await h.Coordinator.CommitOffsetsAsync(
            Simple("tool", At("payments", 0, 1, "12345678"), At("payments", 1, 1, "123456789"), At("payments", 2, 1, "ééééé"), At("", 3, 1)),
            TestContext.Current.CancellationToken);

        Assert.Equal([ErrorCode.None, ErrorCode.OffsetMetadataTooLarge, ErrorCode.OffsetMetadataTooLarge, ErrorCode.InvalidTopicException], results.Select(r => r.Error));
        Assert.Equal(1, FetchOne(h, "tool", "payments", 0).Offset);
        Assert.Equal(-1, FetchOne(h, "tool", "payments", 1).Offset);
    }

    [Fact]
    public async Task Offsets_SurviveDisposeAndOpen()
    {
        await using var h = new GroupHarness();
        var gen1 = await h.FormGroup(2);
        await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[0], At("payments", 0, 10, "m0", 4)), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[1], At("payments", 1, 20)), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[1], At("payments", 1, 21, "latest")), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("audit", 0, 5)), TestContext.Current.CancellationToken);

        await h.Reopen();

        Assert.Equal(new FetchedOffset("payments", 0, 10, 4, "m0", ErrorCode.None), FetchOne(h, Group, "payments", 0));
        Assert.Equal(new FetchedOffset("payments", 1, 21, -1, "latest", ErrorCode.None), FetchOne(h, Group, "payments", 1));
        Assert.Equal(5, FetchOne(h, "tool", "audit", 0).Offset);
        // Membership does not survive: the group is back, empty, and its members must join again.
        Assert.Contains((Group, "consumer", "Empty"), h.Coordinator.ListGroups());
        Assert.Equal(ErrorCode.UnknownMemberId, h.Heartbeat(gen1[0]));
    }

    [Fact]
    public async Task Offsets_WithoutFsyncPerCommit_StillSurviveAnOrderlyClose()
    {
        await using var h = new GroupHarness(new GroupCoordinatorOptions { FsyncCommits = false });
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 1)), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 2)), TestContext.Current.CancellationToken);

        await h.Reopen();

        Assert.Equal(2, FetchOne(h, "tool", "payments", 0).Offset);
    }

    [Fact]
    public async Task Offsets_ManyConcurrentCommits_AreAllDurable()
    {
        await using var h = new GroupHarness();

        var commits = Enumerable.Range(0, 200)
            .Select(i => Task.Run(() => h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", i, i * 10L)), TestContext.Current.CancellationToken), TestContext.Current.CancellationToken))
            .ToList();
        var results = await Task.WhenAll(commits);
        await h.Reopen();

        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Single().Error));
        var all = h.Coordinator.FetchOffsets("tool", null).Offsets;
        Assert.Equal(200, all.Count);
        Assert.All(all, o => Assert.Equal(o.Partition * 10L, o.Offset));
    }

    [Fact]
    public async Task Journal_TornTail_IsCutAndLaterCommitsSurvive()
    {
        await using var h = new GroupHarness();
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 1)), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 1, 2)), TestContext.Current.CancellationToken);
        await h.Coordinator.DisposeAsync();
        long length = new FileInfo(h.JournalPath).Length;
        using (var file = new FileStream(h.JournalPath, FileMode.Open, FileAccess.Write))
        {
            // The last record loses its final bytes, as if the machine stopped mid-write.
            file.SetLength(length - 3);
        }

        await h.Reopen();
        Assert.Equal(1, FetchOne(h, "tool", "payments", 0).Offset);
        Assert.Equal(-1, FetchOne(h, "tool", "payments", 1).Offset);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 2, 3)), TestContext.Current.CancellationToken);
        await h.Reopen();

        Assert.Equal(1, FetchOne(h, "tool", "payments", 0).Offset);
        Assert.Equal(3, FetchOne(h, "tool", "payments", 2).Offset);
    }

    [Fact]
    public async Task Journal_CorruptRecord_EndsTheJournalThere()
    {
        await using var h = new GroupHarness();
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 1)), TestContext.Current.CancellationToken);
        await h.Coordinator.DisposeAsync();
        long goodLength = new FileInfo(h.JournalPath).Length;
        await h.Reopen();
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 1, 2)), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 2, 3)), TestContext.Current.CancellationToken);
        await h.Coordinator.DisposeAsync();
        using (var file = new FileStream(h.JournalPath, FileMode.Open, FileAccess.ReadWrite))
        {
            // Flip one byte inside the second commit's payload: its CRC no longer matches.
            file.Position = goodLength + 12;
            int value = file.ReadByte();
            file.Position = goodLength + 12;
            file.WriteByte((byte)(value ^ 0xFF));
        }

        await h.Reopen();

        Assert.Equal(1, FetchOne(h, "tool", "payments", 0).Offset);
        Assert.Equal(-1, FetchOne(h, "tool", "payments", 1).Offset);
        Assert.Equal(-1, FetchOne(h, "tool", "payments", 2).Offset);
        Assert.Equal(goodLength, new FileInfo(h.JournalPath).Length);
    }

    [Fact]
    public async Task Journal_CorruptFirstRecord_StartsOverEmpty()
    {
        await using var h = new GroupHarness();
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 1)), TestContext.Current.CancellationToken);
        await h.Coordinator.DisposeAsync();
        byte[] bytes = File.ReadAllBytes(h.JournalPath);
        bytes[8] ^= 0xFF; // the header record's type byte: its CRC no longer holds
        File.WriteAllBytes(h.JournalPath, bytes);

        // A first record that fails its CRC reads as a torn header, so everything after it is cut.
        await h.Reopen();
        Assert.Equal(-1, FetchOne(h, "tool", "payments", 0).Offset);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 2)), TestContext.Current.CancellationToken);
        await h.Reopen();
        Assert.Equal(2, FetchOne(h, "tool", "payments", 0).Offset);
    }

    [Fact]
    public async Task Journal_Compaction_KeepsItSmallAndPreservesLatestValues()
    {
        var options = new GroupCoordinatorOptions { JournalCompactionMinBytes = 4096 };
        await using var h = new GroupHarness(options);
        for (int i = 0; i < 400; i++)
        {
            await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", i % 4, i, "round " + i)), TestContext.Current.CancellationToken);
        }

        await h.Coordinator.CommitOffsetsAsync(Simple("gone", At("old-topic", 0, 9)), TestContext.Current.CancellationToken);
        h.Coordinator.DeleteTopicOffsets("old-topic");
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 1000)), TestContext.Current.CancellationToken);
        long length = new FileInfo(h.JournalPath).Length;
        await h.Reopen();

        // 400 commits of about 60 bytes each were written; without compaction the journal would hold all of them.
        Assert.InRange(length, 1, 4096 + 200);
        Assert.Equal(new FetchedOffset("payments", 0, 1000, -1, "", ErrorCode.None), FetchOne(h, "tool", "payments", 0));
        Assert.Equal(new FetchedOffset("payments", 3, 399, -1, "round 399", ErrorCode.None), FetchOne(h, "tool", "payments", 3));
        Assert.Equal(-1, FetchOne(h, "gone", "old-topic", 0).Offset);
    }

    [Fact]
    public async Task DeleteTopicOffsets_RemovesTheTopicFromEveryGroupDurably()
    {
        await using var h = new GroupHarness();
        await h.Coordinator.CommitOffsetsAsync(Simple("a", At("doomed", 0, 1), At("kept", 0, 2)), TestContext.Current.CancellationToken);
        await h.Coordinator.CommitOffsetsAsync(Simple("b", At("doomed", 3, 4)), TestContext.Current.CancellationToken);

        h.Coordinator.DeleteTopicOffsets("doomed");
        await h.Reopen();

        Assert.Equal(-1, FetchOne(h, "a", "doomed", 0).Offset);
        Assert.Equal(-1, FetchOne(h, "b", "doomed", 3).Offset);
        Assert.Equal(2, FetchOne(h, "a", "kept", 0).Offset);
    }

    [Fact]
    public async Task Retention_SimpleGroupOffsets_ExpireAfterTheirCommitAndTheGroupGoes()
    {
        var options = new GroupCoordinatorOptions { OffsetsRetention = TimeSpan.FromHours(1), OffsetsRetentionCheckInterval = TimeSpan.FromMinutes(10) };
        await using var h = new GroupHarness(options);
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 0, 1)), TestContext.Current.CancellationToken);
        h.Advance(TimeSpan.FromMinutes(30), step: TimeSpan.FromMinutes(10));
        await h.Coordinator.CommitOffsetsAsync(Simple("tool", At("payments", 1, 2)), TestContext.Current.CancellationToken);

        h.Advance(TimeSpan.FromMinutes(30), step: TimeSpan.FromMinutes(10));

        Assert.Equal(-1, FetchOne(h, "tool", "payments", 0).Offset);
        Assert.Equal(2, FetchOne(h, "tool", "payments", 1).Offset);
        h.Advance(TimeSpan.FromMinutes(30), step: TimeSpan.FromMinutes(10));
        Assert.Empty(h.Coordinator.FetchOffsets("tool", null).Offsets);
        Assert.DoesNotContain(h.Coordinator.ListGroups(), g => g.GroupId == "tool");
        await h.Reopen();
        Assert.Empty(h.Coordinator.FetchOffsets("tool", null).Offsets);
    }

    [Fact]
    public async Task Retention_EmptiedGroup_KeepsOffsetsUntilRetentionAfterItBecameEmptyEvenAcrossRestart()
    {
        var options = new GroupCoordinatorOptions { OffsetsRetention = TimeSpan.FromHours(1), OffsetsRetentionCheckInterval = TimeSpan.FromMinutes(5) };
        await using var h = new GroupHarness(options);
        var longSession = TimeSpan.FromMinutes(25);
        var gen1 = await h.FormGroup(1, session: longSession);
        await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[0], At("payments", 0, 7)), TestContext.Current.CancellationToken);

        // While the group is Stable its subscribed topics' offsets stay, however old the commit.
        for (int i = 0; i < 3; i++)
        {
            h.Advance(TimeSpan.FromMinutes(20), step: TimeSpan.FromMinutes(5));
            Assert.Equal(ErrorCode.None, h.Heartbeat(gen1[0]));
        }

        Assert.Equal(7, FetchOne(h, Group, "payments", 0).Offset);
        h.Coordinator.Leave(Group, [(gen1[0].MemberId, null)]);
        Assert.Equal("Empty", h.Describe().State);
        h.Advance(TimeSpan.FromMinutes(40), step: TimeSpan.FromMinutes(5));
        await h.Reopen();
        h.Advance(TimeSpan.FromMinutes(15), step: TimeSpan.FromMinutes(5));
        Assert.Equal(7, FetchOne(h, Group, "payments", 0).Offset);

        h.Advance(TimeSpan.FromMinutes(10), step: TimeSpan.FromMinutes(5));

        Assert.Equal(-1, FetchOne(h, Group, "payments", 0).Offset);
        Assert.Equal("Dead", h.Describe().State);
    }

    [Fact]
    public async Task Retention_StableConsumerGroup_ExpiresOnlyOffsetsOfTopicsNobodySubscribes()
    {
        var options = new GroupCoordinatorOptions
        {
            OffsetsRetention = TimeSpan.FromMinutes(1),
            OffsetsRetentionCheckInterval = TimeSpan.FromSeconds(5),
            MaxSessionTimeout = TimeSpan.FromMinutes(30),
        };
        await using var h = new GroupHarness(options);
        var longSession = TimeSpan.FromMinutes(20);
        var gen1 = await h.FormGroup(1, session: longSession);
        await h.Coordinator.CommitOffsetsAsync(ByMember(gen1[0], At("payments", 0, 1), At("retired", 0, 2)), TestContext.Current.CancellationToken);

        h.Advance(TimeSpan.FromMinutes(2), step: TimeSpan.FromSeconds(5));

        // The members subscribe to "payments" and "range" (see GroupHarness.Protocols).
        Assert.Equal(1, FetchOne(h, Group, "payments", 0).Offset);
        Assert.Equal(-1, FetchOne(h, Group, "retired", 0).Offset);
    }
}
