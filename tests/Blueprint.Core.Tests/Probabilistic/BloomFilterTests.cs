using System.Buffers.Binary;
using System.IO.Hashing;

using Blueprint.Core.Probabilistic;

namespace Blueprint.Core.Tests.Probabilistic;

public sealed class BloomFilterTests
{
    [Fact]
    public void Contains_EveryAddedItem_IsTrue()
    {
        Gen.String.Array[1, 300].Sample(items =>
        {
            BloomFilter filter = new(Math.Max(1, items.Length), 0.01);
            foreach (string item in items)
            {
                _ = filter.Add(item);
            }

            return items.All(i => filter.Contains(i));
        }, iter: 200);
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.001)]
    public void Contains_FixedItemSet_FalsePositiveRateNearTarget(double rate)
    {
        const int Items = 20_000;
        const int Probes = 200_000;
        BloomFilter filter = new(Items, rate);
        for (int i = 0; i < Items; i++)
        {
            _ = filter.Add($"member-{i}");
        }

        int falsePositives = 0;
        for (int i = 0; i < Probes; i++)
        {
            falsePositives += filter.Contains($"stranger-{i}") ? 1 : 0;
        }

        Assert.InRange(falsePositives / (double)Probes, rate * 0.6, rate * 1.4);
    }

    [Fact]
    public void Add_NewItem_ReportsChangeAndRepeatDoesNot()
    {
        BloomFilter filter = new(100, 0.01);
        Assert.True(filter.Add("a"));
        Assert.False(filter.Add("a"));
        Assert.Equal(filter.HashCount, filter.SetBitCount);
    }

    [Fact]
    public void Serialize_RoundTrip_PreservesShapeBitsAndMembership()
    {
        BloomFilter filter = new(1000, 0.01);
        for (int i = 0; i < 500; i++)
        {
            _ = filter.Add($"k{i}");
        }

        byte[] bytes = filter.Serialize();
        BloomFilter copy = BloomFilter.Deserialize(bytes);
        Assert.Equal(filter.BitCount, copy.BitCount);
        Assert.Equal(filter.HashCount, copy.HashCount);
        Assert.Equal(filter.SetBitCount, copy.SetBitCount);
        Assert.All(Enumerable.Range(0, 500), i => Assert.True(copy.Contains($"k{i}")));
        Assert.Equal(bytes, copy.Serialize());
    }

    [Fact]
    public void Deserialize_AnySingleBitFlipped_ThrowsFormatException()
    {
        BloomFilter filter = new(200, 0.01);
        for (int i = 0; i < 100; i++)
        {
            _ = filter.Add($"k{i}");
        }

        byte[] bytes = filter.Serialize();
        Gen.Int[0, (bytes.Length * 8) - 1].Sample(bit =>
        {
            byte[] corrupt = (byte[])bytes.Clone();
            corrupt[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(corrupt));
        }, iter: 500);
    }

    [Fact]
    public void Deserialize_FlippedPayloadBit_NamesTheChecksum()
    {
        byte[] bytes = new BloomFilter(200, 0.01).Serialize();
        bytes[30] ^= 0x10;
        BloomFilterFormatException error = Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_AnyTruncation_ThrowsFormatException()
    {
        byte[] bytes = new BloomFilter(500, 0.01).Serialize();
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Add_FromManyThreads_LosesNothing()
    {
        const int Items = 40_000;
        BloomFilter concurrent = new(Items, 0.01);
        BloomFilter sequential = new(Items, 0.01);
        Parallel.For(0, Items, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => concurrent.Add($"item-{i}"));
        for (int i = 0; i < Items; i++)
        {
            _ = sequential.Add($"item-{i}");
        }

        // A lost interlocked update would leave a bit unset: the bit arrays must be identical.
        Assert.Equal(sequential.Serialize(), concurrent.Serialize());
    }

    [Fact]
    public void Union_TwoFilters_EqualsFilterOfAllItems()
    {
        BloomFilter left = new(1000, 0.01);
        BloomFilter right = new(1000, 0.01);
        BloomFilter all = new(1000, 0.01);
        for (int i = 0; i < 300; i++)
        {
            _ = (i % 2 == 0 ? left : right).Add($"k{i}");
            _ = all.Add($"k{i}");
        }

        BloomFilter union = BloomFilter.Union(left, right);
        Assert.Equal(all.Serialize(), union.Serialize());
        Assert.True(union.SetBitCount > left.SetBitCount);
    }

    [Fact]
    public void UnionWith_DifferentShape_Throws()
    {
        Assert.Throws<ArgumentException>(() => new BloomFilter(1000, 0.01).UnionWith(new BloomFilter(1000, 0.001)));
    }

    [Fact]
    public void EstimatedItemCount_AfterThousandAdds_IsNearThousand()
    {
        BloomFilter filter = new(2000, 0.01);
        for (int i = 0; i < 1000; i++)
        {
            _ = filter.Add($"k{i}");
        }

        Assert.InRange(filter.EstimatedItemCount, 950, 1050);
    }

    /// <summary>Serializes <paramref name="filter"/>, lets <paramref name="tamper"/> edit it, then recomputes the checksum so only the edit is wrong.</summary>
    private static byte[] Tampered(BloomFilter filter, Action<byte[]> tamper)
    {
        byte[] bytes = filter.Serialize();
        tamper(bytes);
        int payloadBytes = bytes.Length - sizeof(ulong);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(payloadBytes), XxHash64.HashToUInt64(bytes.AsSpan(0, payloadBytes)));
        return bytes;
    }

    [Fact]
    public void Deserialize_HashCountAboveHashCountMaxWithValidChecksum_ThrowsNamingTheLimit()
    {
        byte[] bytes = Tampered(new BloomFilter(1000, 3), b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), BloomFilter.HashCountMax + 1));
        BloomFilterFormatException error = Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes));
        Assert.Contains("k=65", error.Message, StringComparison.Ordinal);
        Assert.Contains("HashCountMax", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_HashCountAboveBitCountWithValidChecksum_Throws()
    {
        byte[] bytes = Tampered(new BloomFilter(10, 3), b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), 11));
        BloomFilterFormatException error = Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes));
        Assert.Contains("k=11", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_BitSetPastBitCountWithValidChecksum_Throws()
    {
        // m = 100 uses bits 0..35 of the second word; bit 63 of it lies past m.
        byte[] bytes = Tampered(new BloomFilter(100, 3), b => b[20 + 8 + 7] |= 0x80);
        BloomFilterFormatException error = Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes));
        Assert.Contains("past m=100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_LastUsedBitSetWithValidChecksum_IsAccepted()
    {
        // Bit 99 is the last bit of m = 100: legal, so the past-m check must not be off by one.
        byte[] bytes = Tampered(new BloomFilter(100, 3), b => b[20 + 8 + 4] |= 0x08);
        Assert.Equal(1, BloomFilter.Deserialize(bytes).SetBitCount);
    }

    [Fact]
    public void Deserialize_ReservedFieldNonZeroWithValidChecksum_Throws()
    {
        byte[] bytes = Tampered(new BloomFilter(100, 3), b => b[6] = 1);
        BloomFilterFormatException error = Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes));
        Assert.Contains("reserved", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_BitCountAboveBitCountMaxWithValidChecksum_Throws()
    {
        byte[] bytes = Tampered(new BloomFilter(100, 3), b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(12), BloomFilter.BitCountMax + 1));
        BloomFilterFormatException error = Assert.Throws<BloomFilterFormatException>(() => BloomFilter.Deserialize(bytes));
        Assert.Contains("BitCountMax", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_BitCountBeyondAByteArray_ThrowsOutOfRange()
    {
        // The serialized form is a 20-byte header, the words and an 8-byte checksum in one byte array.
        long byteArrayBits = (Array.MaxLength - 28L) / 8 * 64;
        long bitCountMax = BloomFilter.BitCountMax;
        Assert.Equal(byteArrayBits, bitCountMax);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BloomFilter(long.MaxValue, 1));
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new BloomFilter(BloomFilter.BitCountMax + 1, 1));
        Assert.Contains("BitCountMax", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_HashCountAboveHashCountMax_ThrowsOutOfRange()
    {
        Assert.Equal(64, BloomFilter.HashCountMax);
        Assert.Equal(64, new BloomFilter(1000, 64).HashCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BloomFilter(1000, 65));
    }

    [Fact]
    public void Constructor_RateSoLowTheOptimalKExceedsTheMax_UsesHashCountMaxAndRoundTrips()
    {
        // For p = 1e-20 the optimal k is log2(1/p) ≈ 66.4, rounded to 66.
        BloomFilter filter = new(100, 1e-20);
        Assert.Equal(BloomFilter.HashCountMax, filter.HashCount);
        _ = filter.Add("a");
        Assert.True(BloomFilter.Deserialize(filter.Serialize()).Contains("a"));
    }
}
