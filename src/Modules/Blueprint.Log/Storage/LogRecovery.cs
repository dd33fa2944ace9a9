// Written by hand: the partition log is the subject of this module and no library provides a Kafka log.
namespace Blueprint.Log.Storage;

/// <summary>
/// Opening a partition directory after a clean stop or a crash (kill -9, power loss). Only the last segment can hold
/// unsynced bytes, because a segment is sealed and fsynced before the next one is created; so closed segments open
/// as they are (their indexes load lazily and rebuild when damaged), and the last one is scanned batch by batch with
/// CRC checks and cut at the first torn or invalid batch. Files left by an interrupted roll, snapshot or compaction
/// (temporaries, <c>.cleaned</c> copies, indexes without their log) are removed first. Producer state comes from the
/// newest intact snapshot at or below the log end, plus a replay of the batches after it; leader epochs from the
/// checkpoint, reconciled with the log's start and end (or from the batch headers when the checkpoint is missing).
/// </summary>
internal static class LogRecovery
{
    public static RecoveredLog Recover(string directory, PartitionLogConfig config, DateTimeOffset now)
    {
        var baseOffsets = new List<long>();
        var indexFiles = new List<(string Path, long BaseOffset)>();
        foreach (string path in Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(SegmentFiles.CleanedSuffix, StringComparison.Ordinal) || name.EndsWith(SegmentFiles.TemporarySuffix, StringComparison.Ordinal))
            {
                File.Delete(path);
            }
            else if (SegmentFiles.TryParse(name, SegmentFiles.LogExtension, out long baseOffset))
            {
                baseOffsets.Add(baseOffset);
            }
            else if (SegmentFiles.TryParse(name, SegmentFiles.IndexExtension, out baseOffset) || SegmentFiles.TryParse(name, SegmentFiles.TimeIndexExtension, out baseOffset))
            {
                indexFiles.Add((path, baseOffset));
            }
        }

        foreach (var (path, baseOffset) in indexFiles)
        {
            if (!baseOffsets.Contains(baseOffset))
            {
                File.Delete(path);
            }
        }

        baseOffsets.Sort();
        var segments = new List<LogSegment>(Math.Max(baseOffsets.Count, 1));
        long truncated = 0;
        try
        {
            if (baseOffsets.Count == 0)
            {
                segments.Add(LogSegment.Create(directory, 0, config.IndexIntervalBytes));
            }
            else
            {
                for (int i = 0; i < baseOffsets.Count - 1; i++)
                {
                    segments.Add(LogSegment.OpenClosed(directory, baseOffsets[i], config.IndexIntervalBytes));
                }

                var (tail, cut) = LogSegment.Recover(directory, baseOffsets[^1], config.IndexIntervalBytes, now);
                segments.Add(tail);
                truncated = cut;
            }

            SegmentFiles.SyncDirectory(directory);
            var array = segments.ToArray();
            var producers = new ProducerStateManager();
            long nextOffset = array[^1].NextOffset;
            foreach (long snapshot in ProducerSnapshot.List(directory))
            {
                if (snapshot > nextOffset)
                {
                    File.Delete(SegmentFiles.SnapshotPath(directory, snapshot));
                }
            }

            LoadProducerState(directory, array, nextOffset, producers);
            var epochs = LeaderEpochCache.Load(directory, array, array[0].BaseOffset, nextOffset);
            return new RecoveredLog(array, producers, epochs, truncated);
        }
        catch
        {
            foreach (var segment in segments)
            {
                segment.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Rebuilds <paramref name="producers"/> for a log ending at <paramref name="nextOffset"/>: the newest intact
    /// snapshot at or below it (damaged ones are deleted), then the batch headers from the snapshot's offset on.
    /// </summary>
    public static void LoadProducerState(string directory, LogSegment[] segments, long nextOffset, ProducerStateManager producers)
    {
        long from = segments[0].BaseOffset;
        producers.Clear();
        var snapshots = ProducerSnapshot.List(directory);
        for (int i = snapshots.Count - 1; i >= 0; i--)
        {
            if (snapshots[i] > nextOffset)
            {
                continue;
            }

            string path = SegmentFiles.SnapshotPath(directory, snapshots[i]);
            if (ProducerSnapshot.TryDecode(File.ReadAllBytes(path), producers))
            {
                from = snapshots[i];
                break;
            }

            File.Delete(path);
        }

        for (int i = 0; i < segments.Length; i++)
        {
            if (i + 1 < segments.Length && segments[i + 1].BaseOffset <= from)
            {
                continue;
            }

            var scanner = segments[i].Scan(0, segments[i].Size, verifyCrc: false);
            while (scanner.TryNext(out var batch))
            {
                if (batch.Header.BaseOffset >= from && batch.Header.BaseOffset < nextOffset)
                {
                    producers.Replay(batch.Header);
                }
            }
        }
    }
}
