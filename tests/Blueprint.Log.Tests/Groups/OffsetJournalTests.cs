using System.Buffers;
using System.Buffers.Binary;
using Blueprint.Log.Groups;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blueprint.Log.Tests.Groups;

public sealed class OffsetJournalTests
{
    private static List<JournalEntry> Replay(string directory)
    {
        var entries = new List<JournalEntry>();
        using var journal = OffsetJournal.Open(directory, entries.Add, NullLogger.Instance);
        return entries;
    }

    private static byte[] Records(Action<ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Records_EveryType_RoundTripsThroughTheFile()
    {
        using var directory = new TempDirectory("journal");
        var value = new CommittedOffset(42, 7, "meta é", 1_700_000_000_000);
        using (var journal = OffsetJournal.Open(directory.Path, _ => { }, NullLogger.Instance))
        {
            journal.Append(Records(w =>
            {
                OffsetJournalFormat.WriteOffsetCommit(w, "group", "topic", 3, value);
                OffsetJournalFormat.WriteOffsetDelete(w, "group", "topic", 4);
                OffsetJournalFormat.WriteTopicDelete(w, "old");
                OffsetJournalFormat.WriteGroupState(w, "group", "consumer", 123);
                OffsetJournalFormat.WriteGroupDelete(w, "other");
            }));
            journal.Sync();
        }

        var entries = Replay(directory.Path);

        Assert.Equal<JournalEntry>(
            [
                new OffsetCommitRecord("group", "topic", 3, value),
                new OffsetDeleteRecord("group", "topic", 4),
                new TopicDeleteRecord("old"),
                new GroupStateRecord("group", "consumer", 123),
                new GroupDeleteRecord("other"),
            ],
            entries);
    }

    [Fact]
    public void Open_ZeroFilledTail_IsCutAsTorn()
    {
        using var directory = new TempDirectory("journal");
        long valid;
        using (var journal = OffsetJournal.Open(directory.Path, _ => { }, NullLogger.Instance))
        {
            journal.Append(Records(w => OffsetJournalFormat.WriteTopicDelete(w, "t")));
            valid = journal.LengthBytes;
            journal.Append(new byte[4096]);
        }

        using var reopened = OffsetJournal.Open(directory.Path, _ => { }, NullLogger.Instance);

        Assert.Equal(valid, reopened.LengthBytes);
        Assert.Equal(new JournalRecovery(valid, 4096), reopened.Recovery);
        Assert.Equal(valid, new FileInfo(Path.Combine(directory.Path, OffsetJournal.FileName)).Length);
    }

    [Fact]
    public void Open_ValidRecordsWithoutHeader_RefusesTheFile()
    {
        using var directory = new TempDirectory("journal");
        File.WriteAllBytes(Path.Combine(directory.Path, OffsetJournal.FileName), Records(w => OffsetJournalFormat.WriteTopicDelete(w, "t")));

        var error = Assert.Throws<InvalidDataException>(() => Replay(directory.Path));

        Assert.Contains("not an offsets journal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_HeaderOfAnotherVersion_RefusesTheFile()
    {
        using var directory = new TempDirectory("journal");
        byte[] header = Records(OffsetJournalFormat.WriteHeader);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(OffsetJournalFormat.HeaderBytes), 9);
        BinaryPrimitives.WriteUInt32LittleEndian(header, OffsetJournalFormat.Crc(header.AsSpan(4)));
        File.WriteAllBytes(Path.Combine(directory.Path, OffsetJournal.FileName), header);

        var error = Assert.Throws<InvalidDataException>(() => Replay(directory.Path));

        Assert.Contains("version 9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_SecondCoordinatorOnTheSameDirectory_IsRefused()
    {
        using var directory = new TempDirectory("journal");
        using var first = OffsetJournal.Open(directory.Path, _ => { }, NullLogger.Instance);

        Assert.Throws<IOException>(() => OffsetJournal.Open(directory.Path, _ => { }, NullLogger.Instance));
    }

    [Fact]
    public void Rewrite_ReplacesTheFileWhole()
    {
        using var directory = new TempDirectory("journal");
        using (var journal = OffsetJournal.Open(directory.Path, _ => { }, NullLogger.Instance))
        {
            journal.Append(Records(w => OffsetJournalFormat.WriteTopicDelete(w, "before")));
            journal.Rewrite(Records(w =>
            {
                OffsetJournalFormat.WriteHeader(w);
                OffsetJournalFormat.WriteGroupDelete(w, "after");
            }));
            journal.Append(Records(w => OffsetJournalFormat.WriteTopicDelete(w, "appended")));
        }

        Assert.Equal<JournalEntry>([new GroupDeleteRecord("after"), new TopicDeleteRecord("appended")], Replay(directory.Path));
        Assert.False(File.Exists(Path.Combine(directory.Path, OffsetJournal.FileName + ".tmp")));
    }
}
