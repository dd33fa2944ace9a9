// The object store's data files are the subject of this module (an S3-compatible store), so they are written by hand:
// no library keeps object bytes in files with per-block checksums verified on every read.
using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Blueprint.Storage.S3;

namespace Blueprint.Storage.Local;

/// <summary>
/// The bytes of objects and parts: small ones inline (returned to be kept in the metadata row), larger ones in a file
/// of their own under <c>blobs/xx/</c>, fsynced (file and directory) before the caller makes them visible. Every
/// <see cref="BlockSize"/> block carries an XxHash3 checksum kept with the metadata; reads verify each block they touch,
/// so bit rot is found by the read that meets it, never served.
/// </summary>
internal sealed partial class BlobFiles
{
    /// <summary>The checksum granularity: a range read verifies only the blocks it covers.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Objects up to this size live in the metadata row: one fsync (the database's) per small PUT.</summary>
    public const int InlineMax = BlockSize;

    private readonly string _root;

    public BlobFiles(string root)
    {
        _root = root;
        Directory.CreateDirectory(root);
    }

    /// <summary>The path of a blob's file.</summary>
    public string PathOf(Guid blob)
    {
        var name = blob.ToString("N");
        return Path.Combine(_root, name[..2], name);
    }

    /// <summary>
    /// Reads <paramref name="source"/> to its end: inline when it is at most <see cref="InlineMax"/> bytes and
    /// <paramref name="allowInline"/>, else into a new blob file, durable when this returns. Refuses more than
    /// <paramref name="maxBytes"/> (EntityTooLarge) and leaves nothing behind on any failure.
    /// </summary>
    public async Task<WrittenBlob> WriteAsync(Stream source, long maxBytes, bool allowInline, CancellationToken cancellationToken)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var first = ArrayPool<byte>.Shared.Rent(BlockSize);
        var block = ArrayPool<byte>.Shared.Rent(BlockSize);
        FileStream? file = null;
        var blob = Guid.NewGuid();
        var hashes = new List<ulong>();
        long total = 0;
        try
        {
            var firstLength = await FillAsync(source, first, cancellationToken).ConfigureAwait(false);
            total = firstLength;
            CheckSize(total, maxBytes);
            md5.AppendData(first, 0, firstLength);
            var nextLength = firstLength == BlockSize ? await FillAsync(source, block, cancellationToken).ConfigureAwait(false) : 0;
            if (nextLength == 0 && allowInline)
            {
                var inline = first.AsSpan(0, firstLength).ToArray();
                return new WrittenBlob(inline, null, total, md5.GetHashAndReset(), [XxHash3.HashToUInt64(inline)]);
            }

            var path = PathOf(blob);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
            });
            await WriteBlockAsync(file, first, firstLength, hashes, cancellationToken).ConfigureAwait(false);
            while (nextLength > 0)
            {
                total += nextLength;
                CheckSize(total, maxBytes);
                md5.AppendData(block, 0, nextLength);
                await WriteBlockAsync(file, block, nextLength, hashes, cancellationToken).ConfigureAwait(false);
                nextLength = nextLength == BlockSize ? await FillAsync(source, block, cancellationToken).ConfigureAwait(false) : 0;
            }

            file.Flush(flushToDisk: true);
            await file.DisposeAsync().ConfigureAwait(false);
            file = null;
            SyncDirectory(Path.GetDirectoryName(path)!);
            return new WrittenBlob(null, blob, total, md5.GetHashAndReset(), [.. hashes]);
        }
        catch
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }

            TryDelete(blob);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(first);
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    /// <summary>
    /// Copies bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> of a segment to
    /// <paramref name="destination"/>, verifying every block read. A block whose checksum does not match throws
    /// <see cref="CorruptBlobException"/> before any of its bytes are written.
    /// </summary>
    public async Task CopyRangeAsync(Segment segment, long offset, long count, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> destination, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            using var handle = File.OpenHandle(PathOf(segment.Blob), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            var blockIndex = (int)(offset / BlockSize);
            var skip = (int)(offset % BlockSize);
            var left = count;
            while (left > 0)
            {
                var blockStart = (long)blockIndex * BlockSize;
                var blockLength = (int)Math.Min(BlockSize, segment.Length - blockStart);
                var read = 0;
                while (read < blockLength)
                {
                    var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read, blockLength - read), blockStart + read, cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new CorruptBlobException(segment.Blob, $"the file ends at {blockStart + read} of {segment.Length} bytes");
                    }

                    read += n;
                }

                if (XxHash3.HashToUInt64(buffer.AsSpan(0, blockLength)) != segment.BlockHashes[blockIndex])
                {
                    throw new CorruptBlobException(segment.Blob, $"block {blockIndex} does not match its checksum");
                }

                var take = (int)Math.Min(blockLength - skip, left);
                await destination(buffer.AsMemory(skip, take), cancellationToken).ConfigureAwait(false);
                left -= take;
                skip = 0;
                blockIndex++;
            }
        }
        catch (FileNotFoundException e)
        {
            throw new CorruptBlobException(segment.Blob, "the file is missing", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Verifies every block of a segment (scrubbing); false when one does not match or the file is missing or short.</summary>
    public async Task<bool> VerifyAsync(Segment segment, CancellationToken cancellationToken)
    {
        try
        {
            await CopyRangeAsync(segment, 0, segment.Length, static (_, _) => ValueTask.CompletedTask, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (CorruptBlobException)
        {
            return false;
        }
    }

    /// <summary>Deletes a blob's file; a missing one is not an error.</summary>
    public void TryDelete(Guid blob)
    {
        try
        {
            File.Delete(PathOf(blob));
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Every blob file on disk with its last write time (for the orphan sweep).</summary>
    public IEnumerable<(Guid Blob, DateTime WrittenUtc)> Enumerate()
    {
        foreach (var directory in Directory.EnumerateDirectories(_root))
        {
            foreach (var file in Directory.EnumerateFiles(directory))
            {
                if (Guid.TryParseExact(Path.GetFileName(file), "N", out var blob))
                {
                    yield return (blob, File.GetLastWriteTimeUtc(file));
                }
            }
        }
    }

    private static void CheckSize(long total, long maxBytes)
    {
        if (total > maxBytes)
        {
            throw S3Exception.EntityTooLarge(maxBytes);
        }
    }

    private static async ValueTask WriteBlockAsync(FileStream file, byte[] block, int length, List<ulong> hashes, CancellationToken cancellationToken)
    {
        hashes.Add(XxHash3.HashToUInt64(block.AsSpan(0, length)));
        await file.WriteAsync(block.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the source ends; returns the bytes read.</summary>
    private static async ValueTask<int> FillAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < BlockSize)
        {
            var n = await source.ReadAsync(buffer.AsMemory(filled, BlockSize - filled), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return filled;
    }

    /// <summary>fsyncs a directory so a new file's name survives a crash (.NET has no API for it).</summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        var fd = NativeMethods.Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return;
        }

        try
        {
            _ = NativeMethods.Fsync(fd);
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync")]
        public static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }
}

/// <summary>What <see cref="BlobFiles.WriteAsync"/> stored: inline bytes or a blob file, the size, MD5 and block checksums.</summary>
internal sealed record WrittenBlob(byte[]? Inline, Guid? Blob, long Length, byte[] Md5, ulong[] BlockHashes)
{
    /// <summary>The stored bytes as a segment (for a blob file).</summary>
    public Segment ToSegment() => new(Blob ?? throw new InvalidOperationException("inline data has no segment"), Length, BlockHashes);
}

/// <summary>A run of an object's bytes kept in one blob file, with its block checksums.</summary>
internal sealed record Segment(Guid Blob, long Length, ulong[] BlockHashes);

/// <summary>A blob file that is missing, short, or whose block does not match its checksum.</summary>
internal sealed class CorruptBlobException : Exception
{
    public CorruptBlobException(Guid blob, string reason, Exception? inner = null)
        : base($"blob {blob:N}: {reason}", inner)
    {
        Blob = blob;
    }

    public CorruptBlobException()
    {
    }

    public CorruptBlobException(string message)
        : base(message)
    {
    }

    public CorruptBlobException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public Guid Blob { get; }
}
