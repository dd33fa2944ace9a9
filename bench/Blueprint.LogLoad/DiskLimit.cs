using System.Diagnostics;
using System.Runtime.InteropServices;
using HdrHistogram;
using Microsoft.Win32.SafeHandles;

namespace Blueprint.LogLoad;

/// <summary>
/// The physical limit under every log here: sequential 1 MiB writes each followed by an fsync (the best a log can do
/// with large group commits), then small appends each followed by an fsync, then by an fdatasync (the most
/// acknowledged appends per second with one sync each). Files grow as a log's do and are deleted afterwards.
/// </summary>
internal static partial class DiskLimit
{
    private const int LargeWriteBytes = 1 << 20;

    public static DiskResult Run(LoadOptions options)
    {
        Directory.CreateDirectory(options.Directory);
        var large = Measure(Path.Combine(options.Directory, "sequential.bin"), LargeWriteBytes, options.Duration / 2, Sync.Fsync);
        var fsync = Measure(Path.Combine(options.Directory, "append-fsync.log"), options.RecordBytes, options.Duration / 4, Sync.Fsync);
        var fdatasync = Measure(Path.Combine(options.Directory, "append-fdatasync.log"), options.RecordBytes, options.Duration / 4, Sync.Fdatasync);
        return new DiskResult(
            large.Bytes / large.Seconds / 1e6,
            large.P50Microseconds,
            fsync.Writes / fsync.Seconds,
            fsync.P50Microseconds,
            fsync.P99Microseconds,
            fdatasync.Writes / fdatasync.Seconds,
            fdatasync.P50Microseconds,
            fdatasync.P99Microseconds);
    }

    private enum Sync
    {
        Fsync,
        Fdatasync,
    }

    private static Measurement Measure(string path, int writeBytes, TimeSpan duration, Sync sync)
    {
        var buffer = new byte[writeBytes];
        new Random(writeBytes).NextBytes(buffer);
        var histogram = new LongHistogram(Workloads.LatencyMicrosecondsMax, 3);
        long offset = 0, writes = 0;
        try
        {
            using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var started = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(started) < duration)
                {
                    var start = Stopwatch.GetTimestamp();
                    RandomAccess.Write(handle, buffer, offset);
                    offset += writeBytes;
                    if (sync == Sync.Fsync)
                    {
                        RandomAccess.FlushToDisk(handle);
                    }
                    else
                    {
                        Fdatasync(handle);
                    }

                    histogram.RecordValue(Math.Clamp((long)Stopwatch.GetElapsedTime(start).TotalMicroseconds, 1, Workloads.LatencyMicrosecondsMax));
                    writes++;
                }

                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                return new Measurement(seconds, writes, offset, histogram.GetValueAtPercentile(50), histogram.GetValueAtPercentile(99));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Fdatasync(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (NativeFdatasync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int NativeFdatasync(int fd);

    private sealed record Measurement(double Seconds, long Writes, long Bytes, long P50Microseconds, long P99Microseconds);
}

internal sealed record DiskResult(
    double SequentialFsyncMegabytesPerSecond,
    long SequentialFsyncP50Microseconds,
    double AppendFsyncPerSecond,
    long AppendFsyncP50Microseconds,
    long AppendFsyncP99Microseconds,
    double AppendFdatasyncPerSecond,
    long AppendFdatasyncP50Microseconds,
    long AppendFdatasyncP99Microseconds);
