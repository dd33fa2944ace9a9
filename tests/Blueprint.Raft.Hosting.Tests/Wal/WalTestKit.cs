using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Wal;

namespace Blueprint.Raft.Hosting.Tests.Wal;

/// <summary>A temporary directory removed with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = Directory.CreateTempSubdirectory("blueprint-wal-").FullName;

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class WalTestKit
{
    /// <summary>Small segments so a test rolls them quickly; fsync stays on unless a test is about speed.</summary>
    public static readonly WalOptions SmallSegments = new() { SegmentBytes = WalOptions.SegmentBytesMin };

    public static LogEntry Entry(long index, long term, int dataBytes = 8)
    {
        var data = new byte[dataBytes];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((index * 31) + term + i);
        }

        return new LogEntry(index, term, EntryKind.Normal, data);
    }

    public static LogEntry[] Entries(long first, long last, long term, int dataBytes = 8) =>
        [.. Enumerable.Range(0, (int)(last - first + 1)).Select(i => Entry(first + i, term, dataBytes))];

    public static Snapshot Snapshot(long index, long term, params int[] voters) =>
        new(new SnapshotMetadata(index, term, voters), new byte[] { (byte)index, (byte)term, 0xAB });

    /// <summary>What a storage holds, with byte arrays as hex so records compare by value.</summary>
    public static string Describe(IRaftStorage storage)
    {
        var snapshot = storage.Snapshot;
        var entries = storage.LoadEntries().Select(e => $"{e.Index}/{e.Term}/{e.Kind}/{Convert.ToHexString(e.Data.Span)}");
        return $"hs={storage.HardState} snap={snapshot.Metadata.Index}/{snapshot.Metadata.Term}/[{string.Join(',', snapshot.Metadata.Voters)}]/{Convert.ToHexString(snapshot.Data.Span)} entries=[{string.Join(' ', entries)}]";
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from).Where(f => System.IO.Path.GetFileName(f) != "LOCK"))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string directory in Directory.EnumerateDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    public static string Reopened(string directory, WalOptions? options = null, int[]? bootstrapVoters = null)
    {
        using var storage = FileRaftStorage.Open(directory, bootstrapVoters ?? [99], options);
        return Describe(storage);
    }
}
