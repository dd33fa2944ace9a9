using System.Text;
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;

namespace Blueprint.Log.Tests.Records;

public sealed class RecordCompressionTests
{
    public static TheoryData<CompressionType> Codecs => [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Compress_ThenDecompress_GivesTheInputBack(CompressionType codec)
    {
        foreach (var input in new[] { Array.Empty<byte>(), Encoding.UTF8.GetBytes("x"), Repetitive(300_000), Random(150_000) })
        {
            var compressed = RecordCompression.Compress(codec, input);
            Assert.Equal(input, RecordCompression.Decompress(codec, compressed, input.Length));
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Compress_RepetitiveInput_IsSmaller(CompressionType codec)
    {
        var input = Repetitive(100_000);
        var compressed = RecordCompression.Compress(codec, input);
        if (codec == CompressionType.None)
        {
            Assert.Equal(input.Length, compressed.Length);
        }
        else
        {
            Assert.True(compressed.Length < input.Length / 4, $"{codec}: {compressed.Length} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Decompress_PastTheLimit_IsRejectedAsCorrupt(CompressionType codec)
    {
        var input = Repetitive(1_000_000);
        var compressed = RecordCompression.Compress(codec, input);
        var e = Assert.Throws<RecordFormatException>(() => RecordCompression.Decompress(codec, compressed, input.Length - 1));
        Assert.Equal(ErrorCode.CorruptMessage, e.Code);
        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Decompress_Garbage_IsRejectedAsCorrupt(CompressionType codec)
    {
        var garbage = Random(200);
        var e = Assert.Throws<RecordFormatException>(() => RecordCompression.Decompress(codec, garbage, 1 << 20));
        Assert.Equal(ErrorCode.CorruptMessage, e.Code);
    }

    [Fact]
    public void Snappy_XerialFramedSample_Decodes()
    {
        // snappy-java's stream as the Java client writes it: magic, version 1, compatible 1, then two chunks of
        // [length i32][raw snappy]: "hello" and " world" as literals.
        var framed = Convert.FromHexString("82534E41505059000000000100000001" + "00000007" + "051068656C6C6F" + "00000008" + "061420776F726C64");
        Assert.Equal("hello world", Encoding.ASCII.GetString(RecordCompression.Decompress(CompressionType.Snappy, framed, 100)));
    }

    [Fact]
    public void Snappy_RawSample_Decodes()
    {
        // librdkafka writes raw snappy: uncompressed length varint, then a literal.
        var raw = Convert.FromHexString("051068656C6C6F");
        Assert.Equal("hello", Encoding.ASCII.GetString(RecordCompression.Decompress(CompressionType.Snappy, raw, 100)));
    }

    [Fact]
    public void Snappy_Compress_WritesXerialFramingInChunks()
    {
        var input = Repetitive((RecordCompression.XerialChunkBytes * 2) + 10);
        var compressed = RecordCompression.Compress(CompressionType.Snappy, input);
        Assert.Equal("82534E41505059000000000100000001", Convert.ToHexString(compressed, 0, 16));
        int chunks = 0;
        int position = 16;
        while (position < compressed.Length)
        {
            position += 4 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(compressed.AsSpan(position));
            chunks++;
        }

        Assert.Equal(3, chunks);
        Assert.Equal(compressed.Length, position);
    }

    [Fact]
    public void Snappy_XerialDeclaringMoreThanTheLimit_IsRejectedBeforeInflating()
    {
        // One chunk whose raw snappy header claims 100 MB.
        var framed = Convert.FromHexString("82534E41505059000000000100000001" + "00000006" + "8080E82F0000");
        var e = Assert.Throws<RecordFormatException>(() => RecordCompression.Decompress(CompressionType.Snappy, framed, 1 << 20));
        Assert.Equal(ErrorCode.CorruptMessage, e.Code);
    }

    [Fact]
    public void Lz4_KafkaFrameSample_Decodes()
    {
        // As KafkaLZ4BlockOutputStream writes a small incompressible input: magic, FLG 0x60 (version 1, independent
        // blocks), BD 0x40 (64 KiB), header checksum, one stored block (high bit set), end mark.
        var frame = Convert.FromHexString("04224D186040820B00008068656C6C6F206B61666B6100000000");
        Assert.Equal("hello kafka", Encoding.ASCII.GetString(RecordCompression.Decompress(CompressionType.Lz4, frame, 100)));
    }

    [Fact]
    public void Lz4_Compress_WritesTheFrameHeaderKafkaJavaReads()
    {
        // Java's KafkaLZ4BlockInputStream rejects dependent blocks; this is the header it writes itself.
        var compressed = RecordCompression.Compress(CompressionType.Lz4, Repetitive(200_000));
        Assert.Equal("04224D18604082", Convert.ToHexString(compressed, 0, 7));
        Assert.Equal("00000000", Convert.ToHexString(compressed, compressed.Length - 4, 4));
    }

    [Fact]
    public void Gzip_Sample_Decodes()
    {
        // gzip.compress(b"hello kafka", mtime=0) from Python's standard library.
        var gzip = Convert.FromHexString("1f8b0800000000000203cb48cdc9c957c84e4ccb4e0400d175816c0b000000");
        Assert.Equal("hello kafka", Encoding.ASCII.GetString(RecordCompression.Decompress(CompressionType.Gzip, gzip, 100)));
    }

    [Fact]
    public void Zstd_FramesWithAndWithoutContentSize_Decode()
    {
        // A single-segment frame with a 1-byte content size, and a streamed frame without one (1 KiB window); each
        // holds one raw block "hello".
        var sized = Convert.FromHexString("28B52FFD" + "2005" + "290000" + "68656C6C6F");
        var streamed = Convert.FromHexString("28B52FFD" + "0000" + "290000" + "68656C6C6F");
        Assert.Equal("hello", Encoding.ASCII.GetString(RecordCompression.Decompress(CompressionType.Zstd, sized, 100)));
        Assert.Equal("hello", Encoding.ASCII.GetString(RecordCompression.Decompress(CompressionType.Zstd, streamed, 100)));
    }

    private static byte[] Repetitive(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)"kafka log record "[i % 17];
        }

        return bytes;
    }

    private static byte[] Random(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
