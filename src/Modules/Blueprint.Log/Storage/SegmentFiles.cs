using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Blueprint.Log.Storage;

/// <summary>
/// Names and durable file operations of a partition directory, named as Kafka names them:
/// <c>{baseOffset:D20}.log</c>, <c>.index</c>, <c>.timeindex</c>, <c>{offset:D20}.snapshot</c> for producer state and
/// <c>leader-epoch-checkpoint</c>.
/// A file replaced whole is written under a temporary suffix, fsynced and renamed, then the directory is fsynced.
/// </summary>
internal static class SegmentFiles
{
    public const string LogExtension = ".log";
    public const string IndexExtension = ".index";
    public const string TimeIndexExtension = ".timeindex";
    public const string SnapshotExtension = ".snapshot";

    /// <summary>The suffix of a segment file written by compaction and not yet swapped in.</summary>
    public const string CleanedSuffix = ".cleaned";

    /// <summary>The suffix of a file being written before its rename into place.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Held open exclusively while a <see cref="PartitionLog"/> has the directory.</summary>
    public const string LockFileName = ".lock";

    /// <summary>The leader epoch cache of the partition (see <see cref="LeaderEpochCache"/>).</summary>
    public const string LeaderEpochCheckpointFileName = "leader-epoch-checkpoint";

    private const int OffsetDigits = 20;

    public static string LogPath(string directory, long baseOffset) => Path.Combine(directory, Name(baseOffset, LogExtension));

    public static string IndexPath(string directory, long baseOffset) => Path.Combine(directory, Name(baseOffset, IndexExtension));

    public static string TimeIndexPath(string directory, long baseOffset) => Path.Combine(directory, Name(baseOffset, TimeIndexExtension));

    public static string SnapshotPath(string directory, long offset) => Path.Combine(directory, Name(offset, SnapshotExtension));

    public static string LeaderEpochCheckpointPath(string directory) => Path.Combine(directory, LeaderEpochCheckpointFileName);

    /// <summary>Parses <c>{20 digits}{extension}</c>.</summary>
    public static bool TryParse(string fileName, string extension, out long offset)
    {
        offset = 0;
        return fileName.Length == OffsetDigits + extension.Length
            && fileName.EndsWith(extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, OffsetDigits), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> and fsyncs it (no rename: callers that need atomicity use <see cref="WriteAtomically"/>).</summary>
    public static void WriteDurably(string path, ReadOnlySpan<byte> bytes)
    {
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete);
        RandomAccess.Write(handle, bytes, 0);
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically: temporary file, fsync, rename, directory fsync.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        string temporary = path + TemporarySuffix;
        WriteDurably(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Deletes a file if it exists.</summary>
    public static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Fsyncs a directory so creations, renames and deletions in it survive a crash. .NET does not open directories
    /// as files, so on Unix this calls libc's <c>open</c>, <c>fsync</c> and <c>close</c>; on Windows it does nothing
    /// (NTFS journals metadata and offers user code no directory fsync).
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        byte[] path = Encoding.UTF8.GetBytes(directory + "\0");
        int fd = NativeMethods.Open(path, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (NativeMethods.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static string Name(long offset, string extension) =>
        offset.ToString("D20", CultureInfo.InvariantCulture) + extension;

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open(byte[] path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int fd);
    }
}
