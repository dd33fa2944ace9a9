using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting.Wal;

/// <summary>
/// File names and durable file operations of the WAL directory. Durability follows the usual POSIX recipe: a new
/// file is written under a temporary name and fsynced, renamed into place, and then its directory is fsynced so the
/// rename itself survives a crash.
/// </summary>
internal static class WalFiles
{
    public const string WalDirectoryName = "wal";
    public const string SnapshotDirectoryName = "snap";
    public const string LockFileName = "LOCK";
    public const string SegmentExtension = ".wal";
    public const string SnapshotExtension = ".snap";
    public const string TemporaryExtension = ".tmp";

    /// <summary>Bytes of a snapshot file before its voters: CRC, index, term, voter count.</summary>
    private const int SnapshotFixedBytes = 4 + 8 + 8 + 4;

    /// <summary>A segment's name: its sequence number and the next log index when it was created, both as 16 hex digits.</summary>
    public static string SegmentName(long sequence, long firstIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:x16}-{firstIndex:x16}{SegmentExtension}");

    /// <summary>A snapshot file's name: term and index, both as 16 hex digits.</summary>
    public static string SnapshotName(long term, long index) =>
        string.Create(CultureInfo.InvariantCulture, $"{term:x16}-{index:x16}{SnapshotExtension}");

    /// <summary>Parses <c>&lt;a&gt;-&lt;b&gt;&lt;extension&gt;</c> with two 16-digit hex numbers.</summary>
    public static bool TryParsePair(string fileName, string extension, out long first, out long second)
    {
        first = 0;
        second = 0;
        if (fileName.Length != 16 + 1 + 16 + extension.Length || !fileName.EndsWith(extension, StringComparison.Ordinal) || fileName[16] != '-')
        {
            return false;
        }

        return long.TryParse(fileName.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out first)
            && long.TryParse(fileName.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out second)
            && first >= 0 && second >= 0;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically: temporary file, fsync, rename, directory fsync.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes, bool fsync, Action? afterSync)
    {
        string temporary = path + TemporaryExtension;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(bytes);
            if (fsync)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        afterSync?.Invoke();
        File.Move(temporary, path, overwrite: true);
        if (fsync)
        {
            SyncDirectory(Path.GetDirectoryName(path)!);
        }

        afterSync?.Invoke();
    }

    /// <summary>
    /// Fsyncs a directory so that creations, renames and deletions in it are durable. .NET refuses to open a
    /// directory as a file, so on Unix this calls <c>open</c>, <c>fsync</c> and <c>close</c> from libc. On Windows
    /// it does nothing: NTFS journals metadata and offers no directory fsync to user code, which is a known gap.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        byte[] path = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        int fd = Open(path, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Encodes a snapshot file: <c>crc32c u32</c> of the rest, then <c>index i64, term i64, voterCount i32, voters i32..., data</c>.</summary>
    public static byte[] EncodeSnapshot(Snapshot snapshot)
    {
        var metadata = snapshot.Metadata;
        long length = SnapshotFixedBytes + ((long)metadata.Voters.Count * sizeof(int)) + snapshot.Data.Length;
        if (length > Array.MaxLength)
        {
            throw new ArgumentException($"Snapshot at index {metadata.Index} encodes to {length} bytes, more than one file array holds ({Array.MaxLength}).", nameof(snapshot));
        }

        var bytes = new byte[length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], metadata.Index);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], metadata.Term);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], metadata.Voters.Count);
        int offset = SnapshotFixedBytes;
        foreach (int voter in metadata.Voters)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[offset..], voter);
            offset += sizeof(int);
        }

        snapshot.Data.Span.CopyTo(span[offset..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span, WalFormat.Crc(span[4..]));
        return bytes;
    }

    /// <summary>Reads and checks a snapshot file; throws <see cref="InvalidDataException"/> naming the file when it is damaged or does not match its name.</summary>
    public static Snapshot ReadSnapshot(string path, long term, long index)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new InvalidDataException($"Snapshot file '{path}' that the WAL refers to is missing.", e);
        }

        var span = bytes.AsSpan();
        if (bytes.Length < SnapshotFixedBytes)
        {
            throw new InvalidDataException($"Snapshot file '{path}' is {bytes.Length} bytes, shorter than its {SnapshotFixedBytes}-byte header.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span) != WalFormat.Crc(span[4..]))
        {
            throw new InvalidDataException($"Snapshot file '{path}' fails its CRC check (offset 0).");
        }

        long fileIndex = BinaryPrimitives.ReadInt64LittleEndian(span[4..]);
        long fileTerm = BinaryPrimitives.ReadInt64LittleEndian(span[12..]);
        int voterCount = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        if (fileIndex != index || fileTerm != term || voterCount < 0 || voterCount > Membership.VotersMax
            || SnapshotFixedBytes + ((long)voterCount * sizeof(int)) > bytes.Length)
        {
            throw new InvalidDataException($"Snapshot file '{path}' holds index {fileIndex}, term {fileTerm} and {voterCount} voters, which do not match its name (index {index}, term {term}) or its size.");
        }

        var voters = new int[voterCount];
        for (int i = 0; i < voterCount; i++)
        {
            voters[i] = BinaryPrimitives.ReadInt32LittleEndian(span[(SnapshotFixedBytes + (i * sizeof(int)))..]);
        }

        int dataOffset = SnapshotFixedBytes + (voterCount * sizeof(int));
        return new Snapshot(new SnapshotMetadata(index, term, voters), bytes.AsMemory(dataOffset));
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
