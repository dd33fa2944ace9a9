using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Groups;

/// <summary>
/// The file under the offsets store: one append-only journal of <see cref="OffsetJournalFormat"/> records, replayed
/// on open with a torn tail cut off, and replaced whole (temporary file, fsync, rename, directory fsync) when the
/// store compacts it. A lock file held open with <see cref="FileShare.None"/> keeps a second coordinator out of the
/// directory. Not thread-safe: the store's single writer calls it.
/// </summary>
internal sealed partial class OffsetJournal : IDisposable
{
    public const string FileName = "offsets.journal";
    private const string LockFileName = "offsets.lock";
    private const string TemporarySuffix = ".tmp";
    private const int ReadBufferBytes = 64 * 1024;

    private readonly string _directory;
    private readonly string _path;
    private readonly FileStream _lock;
    private FileStream _file;

    private OffsetJournal(string directory, FileStream lockFile, FileStream file, long lengthBytes)
    {
        _directory = directory;
        _path = Path.Combine(directory, FileName);
        _lock = lockFile;
        _file = file;
        LengthBytes = lengthBytes;
    }

    /// <summary>The journal's size in bytes.</summary>
    public long LengthBytes { get; private set; }

    /// <summary>What the last open found.</summary>
    public JournalRecovery Recovery { get; private init; }

    /// <summary>
    /// Opens (creating when missing) the journal in <paramref name="directory"/>, handing every record to
    /// <paramref name="apply"/> in order. A record that is cut short, longer than any valid record, or fails its CRC
    /// ends the journal: it and everything after it are truncated, as the tail a crash tore.
    /// </summary>
    public static OffsetJournal Open(string directory, Action<JournalEntry> apply, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        var lockFile = AcquireLock(directory);
        try
        {
            string path = Path.Combine(directory, FileName);
            File.Delete(path + TemporarySuffix);
            var (validBytes, fileBytes) = File.Exists(path) ? Replay(path, apply) : (0L, 0L);
            var recovery = new JournalRecovery(validBytes, fileBytes - validBytes);
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
            try
            {
                if (validBytes < fileBytes)
                {
                    Log.TornTail(logger, path, fileBytes - validBytes, validBytes);
                    file.SetLength(validBytes);
                    file.Flush(flushToDisk: true);
                }

                if (validBytes == 0)
                {
                    var header = new System.Buffers.ArrayBufferWriter<byte>();
                    OffsetJournalFormat.WriteHeader(header);
                    file.Write(header.WrittenSpan);
                    file.Flush(flushToDisk: true);
                    SyncDirectory(directory);
                    validBytes = header.WrittenCount;
                }

                return new OffsetJournal(directory, lockFile, file, validBytes) { Recovery = recovery };
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Appends records after the last one (written to the OS, not yet forced to disk).</summary>
    public void Append(ReadOnlySpan<byte> records)
    {
        _file.Position = LengthBytes;
        _file.Write(records);
        LengthBytes += records.Length;
    }

    /// <summary>Forces everything appended to the disk.</summary>
    public void Sync() => _file.Flush(flushToDisk: true);

    /// <summary>
    /// Replaces the journal with <paramref name="records"/> (which start with a header record): written to a temporary
    /// file, fsynced, renamed over the journal and the directory fsynced, so a crash leaves the old or the new file.
    /// </summary>
    public void Rewrite(ReadOnlySpan<byte> records)
    {
        string temporary = _path + TemporarySuffix;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(records);
            stream.Flush(flushToDisk: true);
        }

        // Windows refuses to rename over a file that is open; closing first costs nothing elsewhere.
        _file.Dispose();
        File.Move(temporary, _path, overwrite: true);
        SyncDirectory(_directory);
        _file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        LengthBytes = records.Length;
    }

    public void Dispose()
    {
        _file.Dispose();
        _lock.Dispose();
    }

    /// <summary>Replays the journal at <paramref name="path"/>; returns the bytes of whole, valid records and the file's size.</summary>
    private static (long ValidBytes, long FileBytes) Replay(string path, Action<JournalEntry> apply)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, ReadBufferBytes);
        long fileBytes = stream.Length;
        long position = 0;
        var buffer = new byte[OffsetJournalFormat.HeaderBytes + 256];
        while (true)
        {
            if (stream.ReadAtLeast(buffer.AsSpan(0, OffsetJournalFormat.HeaderBytes), OffsetJournalFormat.HeaderBytes, throwOnEndOfStream: false) < OffsetJournalFormat.HeaderBytes)
            {
                return (position, fileBytes);
            }

            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4));
            if (length > OffsetJournalFormat.MaxPayloadBytes)
            {
                return (position, fileBytes);
            }

            int recordBytes = OffsetJournalFormat.HeaderBytes + (int)length;
            if (buffer.Length < recordBytes)
            {
                Array.Resize(ref buffer, Math.Max(recordBytes, buffer.Length * 2));
            }

            var payload = buffer.AsSpan(OffsetJournalFormat.HeaderBytes, (int)length);
            if (stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false) < payload.Length
                || OffsetJournalFormat.Crc(buffer.AsSpan(4, recordBytes - 4)) != crc)
            {
                return (position, fileBytes);
            }

            var type = (JournalRecordType)buffer[8];
            if ((position == 0) != (type == JournalRecordType.Header))
            {
                throw new InvalidDataException($"'{path}' is not an offsets journal: a header record must come first and only first (found type {(byte)type} at byte {position}).");
            }

            var entry = OffsetJournalFormat.Decode(type, payload);
            if (entry is not null)
            {
                apply(entry);
            }

            position += recordBytes;
        }
    }

    private static FileStream AcquireLock(string directory)
    {
        string path = Path.Combine(directory, LockFileName);
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix and a sharing lock on Windows.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The offsets directory '{directory}' is locked: another group coordinator is using it.", e);
        }
    }

    /// <summary>
    /// Fsyncs a directory so a rename in it is durable. .NET refuses to open a directory as a file, so on Unix this calls
    /// libc <c>open</c>, <c>fsync</c> and <c>close</c>; on Windows it does nothing (NTFS journals metadata and offers no
    /// directory fsync to user code).
    /// </summary>
    private static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        byte[] path = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        int fd = NativeOpen(path, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (NativeFsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeClose(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int NativeOpen(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int NativeFsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int NativeClose(int fd);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Offsets journal {Path}: cut {DroppedBytes} bytes of torn or corrupt tail after {ValidBytes} valid bytes")]
        public static partial void TornTail(ILogger logger, string path, long droppedBytes, long validBytes);
    }
}

/// <summary>What opening the journal found.</summary>
/// <param name="ValidBytes">The bytes of whole, valid records kept.</param>
/// <param name="TruncatedBytes">The bytes of torn or corrupt tail cut off.</param>
internal readonly record struct JournalRecovery(long ValidBytes, long TruncatedBytes);
