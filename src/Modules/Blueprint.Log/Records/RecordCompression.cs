// Written by hand: the record batch is the log's own subject and no library provides Kafka's framing of its codecs.
// Framings follow what Kafka's clients write: the xerial snappy-java stream (Java client; librdkafka writes raw
// snappy and reads both), the LZ4 frame with independent 64 KiB blocks (KafkaLZ4BlockOutputStream, librdkafka's
// LZ4F), gzip (RFC 1952) and Zstandard frames (RFC 8878).
using System.Buffers.Binary;
using System.IO.Compression;
using Blueprint.Log.Kafka;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using Snappier;
using ZstdSharp;

namespace Blueprint.Log.Records;

/// <summary>
/// Compression and bounded decompression of a record batch's records section for each <see cref="CompressionType"/>.
/// Decompression never produces more than a given number of bytes: a payload that would inflate further (a
/// decompression bomb) fails with <see cref="RecordFormatException"/> carrying <see cref="ErrorCode.CorruptMessage"/>,
/// as does any malformed payload.
/// </summary>
public static class RecordCompression
{
    /// <summary>The bytes of input per chunk of the xerial snappy framing (snappy-java's default block size).</summary>
    public const int XerialChunkBytes = 32 * 1024;

    /// <summary>The bytes of input per LZ4 block (Kafka's default, BD = 4).</summary>
    public const int Lz4BlockBytes = 64 * 1024;

    /// <summary>The first 8 bytes of a xerial snappy-java stream.</summary>
    internal static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    /// <summary>Magic, version and compatible version.</summary>
    private const int XerialHeaderBytes = 16;

    /// <summary>Zstandard's default level, the one Kafka's clients use.</summary>
    private const int ZstdLevel = 3;

    /// <summary>Compresses <paramref name="data"/> with <paramref name="type"/>; <see cref="CompressionType.None"/> copies it.</summary>
    public static byte[] Compress(CompressionType type, ReadOnlySpan<byte> data)
    {
        switch (type)
        {
            case CompressionType.None:
                return data.ToArray();
            case CompressionType.Gzip:
                {
                    using var output = new MemoryStream();
                    using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
                    {
                        gzip.Write(data);
                    }

                    return output.ToArray();
                }

            case CompressionType.Snappy:
                return CompressXerial(data);
            case CompressionType.Lz4:
                {
                    using var output = new MemoryStream();
                    var settings = new LZ4EncoderSettings
                    {
                        ChainBlocks = false,
                        BlockSize = Lz4BlockBytes,
                        ContentChecksum = false,
                        BlockChecksum = false,
                        CompressionLevel = LZ4Level.L00_FAST,
                    };
                    using (var lz4 = LZ4Stream.Encode(output, settings, leaveOpen: true))
                    {
                        lz4.Write(data);
                    }

                    return output.ToArray();
                }

            case CompressionType.Zstd:
                {
                    using var compressor = new Compressor(ZstdLevel);
                    return compressor.Wrap(data).ToArray();
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "unknown compression type");
        }
    }

    /// <summary>
    /// Decompresses <paramref name="data"/> written with <paramref name="type"/>; throws
    /// <see cref="RecordFormatException"/> when it is malformed or would exceed <paramref name="maxOutputBytes"/>.
    /// </summary>
    public static byte[] Decompress(CompressionType type, ReadOnlyMemory<byte> data, int maxOutputBytes)
    {
        var segment = DecompressToSegment(type, data, maxOutputBytes);
        return segment.Count == segment.Array!.Length ? segment.Array : segment.AsSpan().ToArray();
    }

    /// <summary>As <see cref="Decompress"/>, without the final copy: the output is the segment's bytes (its array may be longer).</summary>
    internal static ArraySegment<byte> DecompressToSegment(CompressionType type, ReadOnlyMemory<byte> data, int maxOutputBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxOutputBytes);
        try
        {
            switch (type)
            {
                case CompressionType.None:
                    if (data.Length > maxOutputBytes)
                    {
                        throw TooLarge(maxOutputBytes);
                    }

                    return data.ToArray();
                case CompressionType.Gzip:
                    {
                        using var gzip = new GZipStream(new ReadOnlyMemoryStream(data), CompressionMode.Decompress);
                        return ReadBounded(gzip, maxOutputBytes, data.Length);
                    }

                case CompressionType.Snappy:
                    return DecompressSnappy(data.Span, maxOutputBytes);
                case CompressionType.Lz4:
                    {
                        using var lz4 = LZ4Stream.Decode(new ReadOnlyMemoryStream(data), extraMemory: 0, leaveOpen: false, interactive: false);
                        return ReadBounded(lz4, maxOutputBytes, data.Length);
                    }

                case CompressionType.Zstd:
                    {
                        using var zstd = new DecompressionStream(new ReadOnlyMemoryStream(data));
                        return ReadBounded(zstd, maxOutputBytes, data.Length);
                    }

                default:
                    throw new RecordFormatException(ErrorCode.InvalidRecord, $"unknown compression type {(int)type}");
            }
        }
        catch (Exception e) when (e is not RecordFormatException and not OutOfMemoryException)
        {
            throw new RecordFormatException($"{type} payload of {data.Length} bytes does not decompress: {e.Message}", e);
        }
    }

    private static byte[] CompressXerial(ReadOnlySpan<byte> data)
    {
        int chunks = Math.Max(1, (data.Length + XerialChunkBytes - 1) / XerialChunkBytes);
        long bound = XerialHeaderBytes + ((long)chunks * sizeof(int)) + ((long)chunks * Snappy.GetMaxCompressedLength(XerialChunkBytes));
        var output = new byte[Math.Min(bound, Array.MaxLength)];
        XerialMagic.CopyTo(output);
        BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(12), 1);
        int position = XerialHeaderBytes;
        while (!data.IsEmpty)
        {
            var chunk = data[..Math.Min(XerialChunkBytes, data.Length)];
            int written = Snappy.Compress(chunk, output.AsSpan(position + sizeof(int)));
            BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(position), written);
            position += sizeof(int) + written;
            data = data[chunk.Length..];
        }

        return output.AsSpan(0, position).ToArray();
    }

    /// <summary>Raw snappy, or the xerial framing: magic, version i32, compatible version i32, then [length i32][raw snappy block]….</summary>
    private static ArraySegment<byte> DecompressSnappy(ReadOnlySpan<byte> data, int maxOutputBytes)
    {
        if (data.Length < XerialHeaderBytes || !data.StartsWith(XerialMagic))
        {
            int length = Snappy.GetUncompressedLength(data);
            if (length > maxOutputBytes)
            {
                throw TooLarge(maxOutputBytes);
            }

            var raw = new byte[length];
            int written = Snappy.Decompress(data, raw);
            return new ArraySegment<byte>(raw, 0, written);
        }

        long total = 0;
        var rest = data[XerialHeaderBytes..];
        while (!rest.IsEmpty)
        {
            var block = NextXerialBlock(ref rest);
            total += Snappy.GetUncompressedLength(block);
            if (total > maxOutputBytes)
            {
                throw TooLarge(maxOutputBytes);
            }
        }

        var output = new byte[total];
        int position = 0;
        rest = data[XerialHeaderBytes..];
        while (!rest.IsEmpty)
        {
            position += Snappy.Decompress(NextXerialBlock(ref rest), output.AsSpan(position));
        }

        return new ArraySegment<byte>(output, 0, position);
    }

    private static ReadOnlySpan<byte> NextXerialBlock(ref ReadOnlySpan<byte> rest)
    {
        if (rest.Length < sizeof(int))
        {
            throw new RecordFormatException($"xerial snappy stream ends in {rest.Length} stray bytes");
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(rest);
        if (length < 0 || length > rest.Length - sizeof(int))
        {
            throw new RecordFormatException($"xerial snappy block of {length} bytes runs past the {rest.Length - sizeof(int)} left");
        }

        var block = rest.Slice(sizeof(int), length);
        rest = rest[(sizeof(int) + length)..];
        return block;
    }

    /// <summary>Reads <paramref name="stream"/> to its end into one buffer, failing as soon as it passes <paramref name="maxOutputBytes"/>.</summary>
    private static ArraySegment<byte> ReadBounded(Stream stream, int maxOutputBytes, int compressedBytes)
    {
        long limit = (long)maxOutputBytes + 1;
        var buffer = new byte[(int)Math.Min(Math.Max(256L, compressedBytes * 4L), Math.Min(limit, Array.MaxLength))];
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (total > maxOutputBytes || total == Array.MaxLength)
                {
                    throw TooLarge(maxOutputBytes);
                }

                Array.Resize(ref buffer, (int)Math.Min(Math.Min(buffer.Length * 2L, limit), Array.MaxLength));
            }

            int n = stream.Read(buffer, total, buffer.Length - total);
            if (n == 0)
            {
                return new ArraySegment<byte>(buffer, 0, total);
            }

            total += n;
            if (total > maxOutputBytes)
            {
                throw TooLarge(maxOutputBytes);
            }
        }
    }

    private static RecordFormatException TooLarge(int maxOutputBytes) =>
        new(ErrorCode.CorruptMessage, $"records inflate past the limit of {maxOutputBytes} bytes");
}
