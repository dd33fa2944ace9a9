using System.Buffers.Binary;
using System.Text;
using Blueprint.Log.Kafka;
using Blueprint.Log.Records;

namespace Blueprint.Log.Tests.Records;

public sealed class RecordBatchTests
{
    [Fact]
    public void Builder_OneRecord_WritesTheV2LayoutByteForByte()
    {
        var batch = new RecordBatchBuilder().Add(1_000, Bytes("k"), Bytes("v")).Build();

        // Fields at the positions DefaultRecordBatch.java defines, read without RecordBatchHeader.
        Assert.Equal(61 + 9, batch.Length);
        Assert.Equal(0L, BinaryPrimitives.ReadInt64BigEndian(batch.AsSpan(0)));
        Assert.Equal(batch.Length - 12, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(8)));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(12)));
        Assert.Equal(2, batch[16]);
        Assert.Equal(Crc32C.Compute(batch.AsSpan(21)), BinaryPrimitives.ReadUInt32BigEndian(batch.AsSpan(17)));
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(batch.AsSpan(21)));
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(23)));
        Assert.Equal(1_000L, BinaryPrimitives.ReadInt64BigEndian(batch.AsSpan(27)));
        Assert.Equal(1_000L, BinaryPrimitives.ReadInt64BigEndian(batch.AsSpan(35)));
        Assert.Equal(-1L, BinaryPrimitives.ReadInt64BigEndian(batch.AsSpan(43)));
        Assert.Equal(-1, BinaryPrimitives.ReadInt16BigEndian(batch.AsSpan(51)));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(53)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(57)));

        // length 8 (zigzag 0x10), attributes, timestamp delta 0, offset delta 0, key "k", value "v", no headers.
        Assert.Equal("1000000002" + "6B" + "02" + "76" + "00", Convert.ToHexString(batch, 61, 9));
    }

    [Fact]
    public void Header_ParsesEveryField()
    {
        var batch = new RecordBatchBuilder(CompressionType.Zstd)
        {
            BaseOffset = 42,
            PartitionLeaderEpoch = 3,
            ProducerId = 7,
            ProducerEpoch = 2,
            BaseSequence = 10,
            IsTransactional = true,
            TimestampType = TimestampType.LogAppendTime,
        }.Add(500, null, Bytes("a")).Add(900, null, Bytes("b")).Add(700, null, Bytes("c")).Build();

        var header = RecordBatchHeader.Parse(batch);
        Assert.Equal(42, header.BaseOffset);
        Assert.Equal(batch.Length, header.TotalSize);
        Assert.Equal(3, header.PartitionLeaderEpoch);
        Assert.Equal(2, header.Magic);
        Assert.Equal(2, header.LastOffsetDelta);
        Assert.Equal(44, header.LastOffset);
        Assert.Equal(500, header.BaseTimestamp);
        Assert.Equal(900, header.MaxTimestamp);
        Assert.Equal(7, header.ProducerId);
        Assert.Equal(2, header.ProducerEpoch);
        Assert.Equal(10, header.BaseSequence);
        Assert.Equal(12, header.LastSequence);
        Assert.Equal(3, header.RecordCount);
        Assert.Equal(CompressionType.Zstd, header.Compression);
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.True(header.IsTransactional);
        Assert.False(header.IsControl);
        Assert.True(header.HasValidCrc(batch));
    }

    [Fact]
    public void Header_AnyFlippedByteAfterTheCrcField_FailsTheCrc()
    {
        var batch = new RecordBatchBuilder().Add(1, Bytes("key"), Bytes("value")).Build();
        for (int i = 21; i < batch.Length; i++)
        {
            var copy = (byte[])batch.Clone();
            copy[i] ^= 0x01;
            Assert.False(RecordBatchHeader.Parse(copy).HasValidCrc(copy), $"flip at byte {i}");
        }

        // The base offset and leader epoch sit outside the CRC: the log rewrites them freely.
        var moved = (byte[])batch.Clone();
        BinaryPrimitives.WriteInt64BigEndian(moved, 12345);
        BinaryPrimitives.WriteInt32BigEndian(moved.AsSpan(12), 9);
        Assert.True(RecordBatchHeader.Parse(moved).HasValidCrc(moved));
    }

    [Fact]
    public void Header_SequenceWrapsPastIntMax()
    {
        var batch = new RecordBatchBuilder { ProducerId = 1, ProducerEpoch = 0, BaseSequence = int.MaxValue - 1 }
            .Add(1, null, Bytes("a")).Add(1, null, Bytes("b")).Add(1, null, Bytes("c")).Build();
        Assert.Equal(0, RecordBatchHeader.Parse(batch).LastSequence);
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Reader_BuiltBatches_GiveTheRecordsBack(CompressionType codec)
    {
        RecordHeader[] headers = [new("trace", Bytes("abc")), new("empty", null), new("ünïcode", Bytes(""))];
        var first = new RecordBatchBuilder(codec) { BaseOffset = 100 }
            .Add(1_000, Bytes("k1"), Bytes("v1"), headers)
            .Add(990, null, Bytes("no key"))
            .Add(1_500, Bytes("k2"), null)
            .Build();
        var second = new RecordBatchBuilder(codec) { BaseOffset = 103 }.Add(2_000, Bytes(""), Bytes(new string('x', 5_000))).Build();

        var records = RecordBatchReader.ReadRecords(first.Concat(second).ToArray(), 1 << 20);

        Assert.Equal([100L, 101, 102, 103], records.Select(r => r.Offset));
        Assert.Equal([1_000L, 990, 1_500, 2_000], records.Select(r => r.Timestamp));
        Assert.Equal("k1", Text(records[0].Key));
        Assert.Equal("v1", Text(records[0].Value));
        Assert.Equal(["trace", "empty", "ünïcode"], records[0].Headers.Select(h => h.Key));
        Assert.Equal("abc", Text(records[0].Headers[0].Value));
        Assert.Null(records[0].Headers[1].Value);
        Assert.Equal(0, records[0].Headers[2].Value!.Value.Length);
        Assert.Null(records[1].Key);
        Assert.Null(records[2].Value);
        Assert.Equal(0, records[3].Key!.Value.Length);
        Assert.Equal(5_000, records[3].Value!.Value.Length);
        Assert.Empty(records[1].Headers);
    }

    [Fact]
    public void Reader_LogAppendTimeBatch_GivesEveryRecordTheBatchTime()
    {
        var batch = new RecordBatchBuilder { TimestampType = TimestampType.LogAppendTime, MaxTimestamp = 9_999 }
            .Add(1, null, Bytes("a")).Add(2, null, Bytes("b")).Build();
        Assert.All(RecordBatchReader.ReadRecords(batch, 1024), r => Assert.Equal(9_999, r.Timestamp));
    }

    [Fact]
    public void Reader_ControlBatch_IsSkipped()
    {
        var control = new RecordBatchBuilder { ProducerId = 5, ProducerEpoch = 0, IsTransactional = true }.Add(1, Bytes("\0\0\0\0"), Bytes("\0\0\0\0\0\0")).Build();
        BinaryPrimitives.WriteInt16BigEndian(control.AsSpan(21), (short)(BinaryPrimitives.ReadInt16BigEndian(control.AsSpan(21)) | 0x20));
        BinaryPrimitives.WriteUInt32BigEndian(control.AsSpan(17), Crc32C.Compute(control.AsSpan(21)));
        var data = new RecordBatchBuilder { BaseOffset = 1 }.Add(2, null, Bytes("data")).Build();

        var records = RecordBatchReader.ReadRecords(control.Concat(data).ToArray(), 1024);

        Assert.True(RecordBatchHeader.Parse(control).IsControl);
        Assert.Equal("data", Text(Assert.Single(records).Value));
    }

    [Fact]
    public void Reader_BadCrcPartialOrCountMismatch_IsRejected()
    {
        var batch = new RecordBatchBuilder().Add(1, Bytes("k"), Bytes("v")).Add(2, Bytes("k"), Bytes("w")).Build();

        var flipped = (byte[])batch.Clone();
        flipped[^1] ^= 0xFF;
        Assert.Equal(ErrorCode.CorruptMessage, Assert.Throws<RecordFormatException>(() => RecordBatchReader.ReadRecords(flipped, 1024)).Code);

        Assert.Equal(ErrorCode.CorruptMessage, Assert.Throws<RecordFormatException>(() => RecordBatchReader.ReadRecords(batch.AsMemory(0, batch.Length - 1), 1024)).Code);

        var miscounted = (byte[])batch.Clone();
        BinaryPrimitives.WriteInt32BigEndian(miscounted.AsSpan(57), 3);
        BinaryPrimitives.WriteUInt32BigEndian(miscounted.AsSpan(17), Crc32C.Compute(miscounted.AsSpan(21)));
        Assert.Throws<RecordFormatException>(() => RecordBatchReader.ReadRecords(miscounted, 1024));
    }

    [Fact]
    public void Reader_CompressedBatchesPastTheBudget_AreRejected()
    {
        var big = Bytes(new string('z', 50_000));
        var one = new RecordBatchBuilder(CompressionType.Lz4).Add(1, null, big).Build();
        var two = new RecordBatchBuilder(CompressionType.Lz4) { BaseOffset = 1 }.Add(1, null, big).Build();

        Assert.Single(RecordBatchReader.ReadRecords(one, 60_000));
        var e = Assert.Throws<RecordFormatException>(() => RecordBatchReader.ReadRecords(one.Concat(two).ToArray(), 60_000));
        Assert.Equal(ErrorCode.CorruptMessage, e.Code);
    }

    [Fact]
    public void Builder_WithoutRecords_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new RecordBatchBuilder().Build());
    }

    internal static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    internal static string? Text(ReadOnlyMemory<byte>? bytes) => bytes is { } b ? Encoding.UTF8.GetString(b.Span) : null;
}
