using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting;
using CsCheck;

namespace Blueprint.Raft.Hosting.Tests;

public sealed class MemberTableTests
{
    private static readonly Gen<RaftMember[]> Members =
        Gen.Int[1, 7].SelectMany(count => Gen.Shuffle(Enumerable.Range(1, 20).ToArray(), count).Select(ids =>
            ids.Select(id => new RaftMember(id, $"n{id}", [$"http://127.0.0.1:{2000 + id}"], [$"http://127.0.0.1:{3000 + id}"])).ToArray()));

    [Fact]
    public void ClusterId_AnyMemberOrder_IsTheSame()
    {
        Members.Sample(members =>
        {
            var reversed = members.Reverse().ToArray();
            Assert.Equal(MemberTable.ComputeClusterId(members), MemberTable.ComputeClusterId(reversed));
            Assert.NotEqual(0UL, MemberTable.ComputeClusterId(members));
        });
    }

    [Fact]
    public void ClusterId_DifferentPeerUrl_Differs()
    {
        RaftMember[] a = [new(1, "n1", ["http://127.0.0.1:1"], []), new(2, "n2", ["http://127.0.0.1:2"], [])];
        RaftMember[] b = [new(1, "n1", ["http://127.0.0.1:1"], []), new(2, "n2", ["http://127.0.0.1:3"], [])];
        Assert.NotEqual(MemberTable.ComputeClusterId(a), MemberTable.ComputeClusterId(b));
    }

    [Fact]
    public void EncodeDecode_AnyTable_RoundTrips()
    {
        Members.Sample(members =>
        {
            var table = new MemberTable(MemberTable.ComputeClusterId(members), members);
            var decoded = MemberTable.Decode(table.Encode());
            Assert.Equal(table.ClusterId, decoded.ClusterId);
            Assert.Equal(table.NextId, decoded.NextId);
            Assert.Equal(table.Members.Count, decoded.Members.Count);
            Assert.All(table.Members.Zip(decoded.Members), pair => Assert.True(pair.First.SameAs(pair.Second), $"{pair.First} != {pair.Second}"));
        });
    }

    [Fact]
    public void Apply_ReplayedFromCurrentList_EndsWithTheSameTable()
    {
        // A joining node starts from the current list and replays every update from the beginning.
        RaftMember[] initial = [new(1, "n1", ["http://a"], []), new(2, "n2", ["http://b"], [])];
        byte[][] updates =
        [
            MemberTable.EncodePublish(1, "n1", ["http://client-a"]),
            MemberTable.EncodeAdd(new RaftMember(3, "n3", ["http://c"], [])),
            MemberTable.EncodeAdd(new RaftMember(4, "unstarted@http://d", ["http://d"], [])),
            MemberTable.EncodeRemove(3),
            MemberTable.EncodePublish(4, "n4", ["http://client-d"]),
        ];
        var original = new MemberTable(7, initial);
        foreach (var update in updates)
        {
            original.Apply(update);
        }

        var joiner = new MemberTable(7, original.Members.Select(m => m with { ClientUrls = [] }));
        foreach (var update in updates)
        {
            joiner.Apply(update);
        }

        Assert.Equal(original.Encode(), joiner.Encode());
        Assert.Equal([1, 2, 4], joiner.Members.Select(m => m.Id));
        Assert.Equal(5, joiner.NextId);
        Assert.Equal(["http://client-d"], joiner.Find(4)!.ClientUrls);
        Assert.Equal("n4", joiner.Find(4)!.Name); // an added member takes the name it starts with
    }

    [Fact]
    public void Remove_HighestId_IsNeverReused()
    {
        var table = new MemberTable(1, [new RaftMember(1, "n1", ["http://a"], [])]);
        table.Apply(MemberTable.EncodeAdd(new RaftMember(2, "n2", ["http://b"], [])));
        table.Apply(MemberTable.EncodeRemove(2));
        Assert.Equal(3, table.NextId);
        Assert.Equal(3, MemberTable.Decode(table.Encode()).NextId);
    }

    [Fact]
    public void EnvelopeCodec_AnyMessage_RoundTrips()
    {
        var messages = Gen.Select(Gen.Int[0, 11], Gen.Long[0, 1000], Gen.Long[0, 1000], Gen.Int[0, 3], Gen.Bool, Gen.Byte.Array[0, 16])
            .Select(t => new Message
            {
                Type = (MessageType)t.Item1,
                From = 1,
                To = 2,
                Term = t.Item2,
                LogTerm = t.Item3,
                Index = t.Item2 + 1,
                Commit = t.Item3,
                Reject = t.Item5,
                RejectHint = t.Item3 / 2,
                Context = t.Item2 * 3,
                SentTick = t.Item3 + 7,
                Entries = [.. Enumerable.Range(0, t.Item4).Select(i => new LogEntry(t.Item2 + i + 1, t.Item2, (EntryKind)(i % 3), t.Item6))],
                Snapshot = t.Item5 ? new Snapshot(new SnapshotMetadata(t.Item2, t.Item3, [1, 2, 3]), t.Item6) : null,
            });
        messages.Sample(message =>
        {
            var back = EnvelopeCodec.ToMessage(EnvelopeCodec.ToEnvelope(message, 99))!;
            Assert.Equal(message with { Entries = [], Snapshot = null }, back with { Entries = [], Snapshot = null });
            Assert.Equal(message.Entries.Select(e => (e.Index, e.Term, e.Kind, e.Data.ToArray().Length)), back.Entries.Select(e => (e.Index, e.Term, e.Kind, e.Data.ToArray().Length)));
            Assert.Equal(message.Snapshot?.Data.ToArray(), back.Snapshot?.Data.ToArray());
            Assert.Equal(message.Snapshot?.Metadata.Voters, back.Snapshot?.Metadata.Voters);
        });
    }
}
