using System.Buffers;
using Blueprint.Core.Raft;

namespace Blueprint.Raft.Hosting.Wal;

/// <summary>
/// <see cref="IRaftStorage"/> on disk: a segmented write-ahead log plus snapshot files, in the manner of etcd's
/// <c>wal</c> and <c>snap</c> packages. Layout under the directory:
/// <code>
/// LOCK                                     held open exclusively while the storage is open
/// wal/&lt;sequence&gt;-&lt;firstIndex&gt;.wal      segments, 16 hex digits each; firstIndex is the next log index at creation
/// snap/&lt;term&gt;-&lt;index&gt;.snap            snapshot files, 16 hex digits each; the newest two are kept
/// </code>
/// Each <see cref="Save"/> writes all records of one Raft <see cref="Ready"/> with a single write and a single fsync
/// (group commit), or no fsync when the only change is the commit index, which Raft does not need durable (etcd's
/// <c>MustSync</c>): that record becomes durable with the next fsync; the record format is in <see cref="WalFormat"/>. The whole log after the snapshot is also kept in
/// memory, as in <see cref="MemoryRaftStorage"/>, because the node reads it only at start and the Raft core holds it
/// anyway.
/// <para>
/// Not thread-safe: one writer, the Raft driver thread, calls every member. After a failed write or fsync the
/// storage refuses every further call: the state of the page cache after a failed fsync is unknown, so the only safe
/// way on is to dispose, reopen and recover from what is on disk.
/// </para>
/// </summary>
public sealed class FileRaftStorage : IBatchRaftStorage, ISnapshotPrewrite, IDisposable
{
    /// <summary>Snapshot files kept on disk; segments are removed only when the oldest kept snapshot covers them, so recovery can fall back to it.</summary>
    public const int SnapshotFilesKept = 2;

    private readonly string _directory;
    private readonly string _walDirectory;
    private readonly string _snapshotDirectory;
    private readonly WalOptions _options;
    private readonly FileStream _lock;
    private readonly List<WalSegment> _segments;
    private readonly List<LogEntry> _entries;
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private FileStream? _segmentStream;
    private HardState _synced;
    private bool _unsynced;
    private Snapshot? _prewritten;
    private Exception? _failure;
    private bool _disposed;

    private FileRaftStorage(string directory, WalOptions options, FileStream lockFile, Action? afterSync)
    {
        _directory = directory;
        _walDirectory = Path.Combine(directory, WalFiles.WalDirectoryName);
        _snapshotDirectory = Path.Combine(directory, WalFiles.SnapshotDirectoryName);
        _options = options;
        _lock = lockFile;
        AfterSync = afterSync;
        _segments = [];
        _entries = [];
        Snapshot = null!;
    }

    /// <inheritdoc />
    public HardState HardState { get; private set; }

    /// <inheritdoc />
    public Snapshot Snapshot { get; private set; }

    /// <summary>The last stored index.</summary>
    public long LastIndex => Snapshot.Metadata.Index + _entries.Count;

    /// <summary>What recovery found and repaired when the storage was opened.</summary>
    public WalRecovery Recovery { get; private set; } = new(0, null, 0, null);

    /// <summary>Segment files on disk now, oldest first.</summary>
    public IReadOnlyList<string> SegmentFiles => [.. _segments.Select(s => s.Path)];

    /// <summary>Called after every fsync of a file or a directory; tests copy the directory there to simulate a crash.</summary>
    internal Action? AfterSync { get; set; }

    /// <summary>
    /// Opens the storage in <paramref name="directory"/>: on first use creates the layout with a bootstrap snapshot at
    /// index 0 holding <paramref name="bootstrapVoters"/> (as <see cref="MemoryRaftStorage"/>'s constructor does);
    /// otherwise recovers from the files and ignores <paramref name="bootstrapVoters"/>.
    /// </summary>
    /// <param name="directory">The storage directory, created if missing.</param>
    /// <param name="bootstrapVoters">The voter set of a new node (empty for a node that waits to be added).</param>
    /// <param name="options">The settings, or null for the defaults.</param>
    /// <returns>The open storage; dispose it to release the directory lock.</returns>
    /// <exception cref="ArgumentException">The options are invalid; every problem is listed.</exception>
    /// <exception cref="IOException">Another process or another open storage holds the directory.</exception>
    /// <exception cref="InvalidDataException">The files are damaged beyond a torn tail; the message names the file and offset.</exception>
    public static FileRaftStorage Open(string directory, IReadOnlyList<int> bootstrapVoters, WalOptions? options = null) =>
        Open(directory, bootstrapVoters, options, afterSync: null);

    /// <summary>Opens with a hook called after every fsync, for crash tests.</summary>
    internal static FileRaftStorage Open(string directory, IReadOnlyList<int> bootstrapVoters, WalOptions? options, Action? afterSync)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(bootstrapVoters);
        options ??= new WalOptions();
        var problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid WAL options: " + string.Join("; ", problems), nameof(options));
        }

        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);
        var lockFile = AcquireLock(directory);
        var storage = new FileRaftStorage(directory, options, lockFile, afterSync);
        try
        {
            storage.Load(bootstrapVoters);
            return storage;
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<LogEntry> LoadEntries()
    {
        ThrowIfUnusable();
        return [.. _entries];
    }

    /// <inheritdoc />
    public void SaveHardState(HardState hardState) => Save(hardState, [], null);

    /// <inheritdoc />
    public void Append(IReadOnlyList<LogEntry> entries) => Save(null, entries, null);

    /// <inheritdoc />
    public void SaveSnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Save(null, [], snapshot);
    }

    /// <inheritdoc />
    public void Save(HardState? hardState, IReadOnlyList<LogEntry> entries, Snapshot? snapshot)
    {
        ThrowIfUnusable();
        ArgumentNullException.ThrowIfNull(entries);

        // Check everything before writing anything, so a refused call leaves no trace on disk.
        bool newSnapshot = snapshot is not null && snapshot.Metadata.Index > Snapshot.Metadata.Index;
        bool keepLater = newSnapshot && HoldsEntry(snapshot!.Metadata.Index, snapshot.Metadata.Term);
        long offset = (newSnapshot ? snapshot!.Metadata.Index : Snapshot.Metadata.Index) + 1;
        long last = newSnapshot && !keepLater ? snapshot!.Metadata.Index : LastIndex;
        CheckEntries(entries, offset, last);
        bool prewritten = snapshot is not null && ReferenceEquals(Interlocked.CompareExchange(ref _prewritten, null, snapshot), snapshot);
        if (prewritten && snapshot!.Metadata.Index < Snapshot.Metadata.Index)
        {
            // A newer snapshot (from the leader) was recorded meanwhile: the file written ahead would only confuse recovery.
            DeleteQuietly(SnapshotPath(snapshot));
        }

        if (hardState is null && entries.Count == 0 && !newSnapshot)
        {
            return;
        }

        try
        {
            if (_segmentStream!.Length >= _options.SegmentBytes)
            {
                Roll();
            }

            if (newSnapshot && !prewritten)
            {
                WalFiles.WriteAtomically(SnapshotPath(snapshot!), WalFiles.EncodeSnapshot(snapshot!), _options.Fsync, AfterSync);
            }

            _buffer.Clear();
            if (newSnapshot)
            {
                WalFormat.WriteSnapshot(_buffer, snapshot!.Metadata.Index, snapshot.Metadata.Term, keepLater);
            }

            if (entries.Count > 0 && entries[0].Index <= last)
            {
                WalFormat.WriteTruncate(_buffer, entries[0].Index);
            }

            foreach (var entry in entries)
            {
                WalFormat.WriteEntry(_buffer, entry);
            }

            if (hardState is { } state)
            {
                WalFormat.WriteHardState(_buffer, state);
            }

            _segmentStream.Write(_buffer.WrittenSpan);

            // Only entries, a snapshot, a term and a vote are promises; a commit index alone is not (etcd's MustSync):
            // it is written now and made durable by the next fsync, and a crash that loses it costs nothing, because
            // a restarted node learns the commit index again from the leader.
            var written = hardState ?? HardState;
            if (newSnapshot || entries.Count > 0 || written.Term != _synced.Term || written.Vote != _synced.Vote)
            {
                Sync(_segmentStream);
                _synced = written;
                _unsynced = false;
            }
            else
            {
                _unsynced = true;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure = e;
            throw;
        }

        if (newSnapshot)
        {
            ApplySnapshot(snapshot!, keepLater);
        }

        if (entries.Count > 0)
        {
            int keep = (int)(entries[0].Index - offset);
            _entries.RemoveRange(keep, _entries.Count - keep);
            _entries.AddRange(entries);
            var segment = _segments[^1];
            segment.MaxEntryIndex = Math.Max(segment.MaxEntryIndex, entries[^1].Index);
        }

        if (hardState is { } saved)
        {
            HardState = saved;
        }

        if (newSnapshot)
        {
            // A snapshot written ahead that this one overtook will never be recorded: drop it before the clean-up
            // below counts the files it keeps.
            if (Volatile.Read(ref _prewritten) is { } overtaken && overtaken.Metadata.Index < snapshot!.Metadata.Index &&
                ReferenceEquals(Interlocked.CompareExchange(ref _prewritten, null, overtaken), overtaken))
            {
                DeleteQuietly(SnapshotPath(overtaken));
            }

            RemoveCovered();
        }
    }

    /// <inheritdoc />
    /// <remarks>The file goes where <see cref="Save"/> would write it (temp file, fsync, rename, directory fsync); the
    /// snapshot record in the log, which is what makes recovery use it, is written only by the <see cref="Save"/> that
    /// follows. A crash in between leaves a file recovery may use or ignore, as a crash inside <see cref="Save"/> does.</remarks>
    public void PrewriteSnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ThrowIfUnusable();
        WalFiles.WriteAtomically(SnapshotPath(snapshot), WalFiles.EncodeSnapshot(snapshot), _options.Fsync, AfterSync);
        Volatile.Write(ref _prewritten, snapshot);
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next snapshot's clean-up, which keeps only the newest files.
        }
    }

    private string SnapshotPath(Snapshot snapshot) =>
        Path.Combine(_snapshotDirectory, WalFiles.SnapshotName(snapshot.Metadata.Term, snapshot.Metadata.Index));

    /// <summary>Closes the current segment and releases the directory lock.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_failure is null)
        {
            try
            {
                SyncIfBehind();
            }
            catch (IOException)
            {
                // Only a commit index was unsynced; a restart learns it again.
            }
        }

        _segmentStream?.Dispose();
        _lock.Dispose();
    }

    private static FileStream AcquireLock(string directory)
    {
        string path = Path.Combine(directory, WalFiles.LockFileName);
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix and a sharing lock on Windows.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The storage directory '{directory}' is locked: another process (or another open FileRaftStorage) is using it.", e);
        }
    }

    private void Load(IReadOnlyList<int> bootstrapVoters)
    {
        bool created = !Directory.Exists(_walDirectory) || !Directory.Exists(_snapshotDirectory);
        Directory.CreateDirectory(_walDirectory);
        Directory.CreateDirectory(_snapshotDirectory);
        if (created)
        {
            SyncDirectory(_directory);
        }

        DeleteTemporaryFiles(_walDirectory);
        DeleteTemporaryFiles(_snapshotDirectory);
        var segments = ListSegments();
        if (segments.Count == 0)
        {
            // No segment: first use, or a first use that crashed before its first segment existed, which acknowledged nothing.
            Snapshot = new Snapshot(new SnapshotMetadata(0, 0, [.. bootstrapVoters.Order()]), ReadOnlyMemory<byte>.Empty);
            WalFiles.WriteAtomically(Path.Combine(_snapshotDirectory, WalFiles.SnapshotName(0, 0)), WalFiles.EncodeSnapshot(Snapshot), _options.Fsync, AfterSync);
            CreateSegment(1);
            return;
        }

        var replay = new WalReplay();
        for (int i = 0; i < segments.Count; i++)
        {
            if (i > 0 && segments[i].Sequence != segments[i - 1].Sequence + 1)
            {
                throw new InvalidDataException($"WAL segment '{segments[i].Path}' follows '{segments[i - 1].Path}': a segment in between is missing.");
            }

            replay.Replay(segments[i], isLast: i == segments.Count - 1, _options.Fsync, AfterSync);
        }

        var (snapshot, entries, fallbackFrom) = replay.Finish(_snapshotDirectory);
        Snapshot = snapshot;
        _entries.AddRange(entries);
        HardState = replay.HardState;
        _segments.AddRange(segments);
        Recovery = new WalRecovery(segments.Count, replay.TruncatedFile, replay.TruncatedBytes, fallbackFrom);
        _synced = HardState;
        _segmentStream = OpenForAppend(_segments[^1].Path);
    }

    private List<WalSegment> ListSegments()
    {
        var segments = new List<WalSegment>();
        foreach (string path in Directory.EnumerateFiles(_walDirectory, "*" + WalFiles.SegmentExtension))
        {
            if (!WalFiles.TryParsePair(Path.GetFileName(path), WalFiles.SegmentExtension, out long sequence, out _))
            {
                throw new InvalidDataException($"WAL file '{path}' does not have a segment name (<sequence>-<firstIndex>{WalFiles.SegmentExtension}, 16 hex digits each).");
            }

            segments.Add(new WalSegment(sequence, path));
        }

        segments.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return segments;
    }

    /// <summary>Creates a segment whole (header, snapshot record, hard state) under a temporary name, then renames it into place.</summary>
    private void CreateSegment(long sequence)
    {
        _buffer.Clear();
        WalFormat.WriteSegmentHeader(_buffer, sequence, LastIndex + 1);
        WalFormat.WriteSnapshot(_buffer, Snapshot.Metadata.Index, Snapshot.Metadata.Term, keptLaterEntries: true);
        WalFormat.WriteHardState(_buffer, HardState);
        string path = Path.Combine(_walDirectory, WalFiles.SegmentName(sequence, LastIndex + 1));
        WalFiles.WriteAtomically(path, _buffer.WrittenSpan, _options.Fsync, AfterSync);
        _segments.Add(new WalSegment(sequence, path));
        _segmentStream = OpenForAppend(path);
    }

    private void Roll()
    {
        // A segment that is not the last must end whole: recovery cuts a torn tail only from the last one.
        SyncIfBehind();
        _segmentStream!.Dispose();
        _segmentStream = null;
        CreateSegment(_segments[^1].Sequence + 1);
    }

    private static FileStream OpenForAppend(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    private void ApplySnapshot(Snapshot snapshot, bool keepLater)
    {
        if (keepLater)
        {
            _entries.RemoveRange(0, (int)(snapshot.Metadata.Index - Snapshot.Metadata.Index));
        }
        else
        {
            _entries.Clear();
        }

        Snapshot = snapshot;
    }

    /// <summary>Keeps the newest <see cref="SnapshotFilesKept"/> snapshot files and removes the segments the oldest of them covers.</summary>
    private void RemoveCovered()
    {
        var snapshots = Directory.EnumerateFiles(_snapshotDirectory, "*" + WalFiles.SnapshotExtension)
            .Select(p => (Path: p, Ok: WalFiles.TryParsePair(Path.GetFileName(p), WalFiles.SnapshotExtension, out _, out long index), Index: index))
            .Where(s => s.Ok && s.Index <= Snapshot.Metadata.Index) // a newer file is written ahead and not recorded yet
            .OrderByDescending(s => s.Index)
            .ToList();
        long oldestKeptIndex = snapshots.Take(SnapshotFilesKept).Min(s => s.Index);
        int removable = 0;
        while (removable < _segments.Count - 1 && _segments[removable].MaxEntryIndex <= oldestKeptIndex)
        {
            removable++;
        }

        try
        {
            foreach (var segment in _segments.Take(removable))
            {
                File.Delete(segment.Path);
            }

            _segments.RemoveRange(0, removable);
            foreach (var old in snapshots.Skip(SnapshotFilesKept))
            {
                File.Delete(old.Path);
            }

            SyncDirectory(_walDirectory);
            SyncDirectory(_snapshotDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure = e;
            throw;
        }
    }

    private bool HoldsEntry(long index, long term)
    {
        long offset = Snapshot.Metadata.Index + 1;
        return index >= offset && index <= LastIndex && _entries[(int)(index - offset)].Term == term;
    }

    private void CheckEntries(IReadOnlyList<LogEntry> entries, long offset, long last)
    {
        if (entries.Count == 0)
        {
            return;
        }

        long first = entries[0].Index;
        if (first < offset || first > last + 1)
        {
            throw new ArgumentException($"Entries from {first} do not fit a log holding {offset}..{last}.", nameof(entries));
        }

        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i].Index != first + i)
            {
                throw new ArgumentException($"Entry {i} has index {entries[i].Index}, not {first + i}: entries must be consecutive.", nameof(entries));
            }

            long bytes = WalFormat.EntryRecordBytes(entries[i]);
            if (bytes > _options.RecordBytesMax)
            {
                throw new ArgumentException($"Entry {entries[i].Index} encodes to {bytes} bytes, more than RecordBytesMax ({_options.RecordBytesMax}).", nameof(entries));
            }
        }
    }

    private void SyncIfBehind()
    {
        if (_unsynced && _segmentStream is not null)
        {
            Sync(_segmentStream);
            _synced = HardState;
            _unsynced = false;
        }
    }

    private void Sync(FileStream stream)
    {
        if (_options.Fsync)
        {
            stream.Flush(flushToDisk: true);
        }

        AfterSync?.Invoke();
    }

    private void SyncDirectory(string directory)
    {
        if (_options.Fsync)
        {
            WalFiles.SyncDirectory(directory);
        }

        AfterSync?.Invoke();
    }

    private static void DeleteTemporaryFiles(string directory)
    {
        foreach (string path in Directory.EnumerateFiles(directory, "*" + WalFiles.TemporaryExtension))
        {
            File.Delete(path);
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw new InvalidOperationException($"The storage in '{_directory}' failed a write earlier ({_failure.Message}); dispose it and reopen to recover from disk.", _failure);
        }
    }
}

/// <summary>What recovery found when a <see cref="FileRaftStorage"/> was opened.</summary>
/// <param name="SegmentsReplayed">Segment files read.</param>
/// <param name="TruncatedFile">The last segment when a torn or corrupt tail was cut off, else null.</param>
/// <param name="TruncatedBytes">Bytes cut off that tail.</param>
/// <param name="SnapshotFallbackFrom">The damaged newest snapshot file when recovery used an older one, else null.</param>
public sealed record WalRecovery(int SegmentsReplayed, string? TruncatedFile, long TruncatedBytes, string? SnapshotFallbackFrom);
