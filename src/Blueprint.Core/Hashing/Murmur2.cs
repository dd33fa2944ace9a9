namespace Blueprint.Core.Hashing;

/// <summary>
/// MurmurHash2 (32-bit) exactly as Kafka's Java client computes it (<c>Utils.murmur2</c>, seed 0x9747b28c), and its
/// default partitioner for keyed records: <c>(murmur2(key) &amp; 0x7fffffff) % partitions</c>. Kept by hand because the
/// point is to agree bit for bit with Kafka's clients, so a key lands on the same partition whoever produces it.
/// </summary>
public static class Murmur2
{
    private const uint Seed = 0x9747b28c;
    private const uint M = 0x5bd1e995;
    private const int R = 24;

    /// <summary>The hash of <paramref name="data"/>, as a signed int as Java returns it.</summary>
    public static int Hash(ReadOnlySpan<byte> data)
    {
        var length = data.Length;
        var h = Seed ^ (uint)length;
        var whole = length & ~3;
        for (var i = 0; i < whole; i += 4)
        {
            var k = (uint)(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }

        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[whole + 2] << 16;
                h ^= (uint)data[whole + 1] << 8;
                h ^= data[whole];
                h *= M;
                break;
            case 2:
                h ^= (uint)data[whole + 1] << 8;
                h ^= data[whole];
                h *= M;
                break;
            case 1:
                h ^= data[whole];
                h *= M;
                break;
            default:
                break;
        }

        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return unchecked((int)h);
    }

    /// <summary>The partition Kafka's default partitioner gives a keyed record.</summary>
    public static int Partition(ReadOnlySpan<byte> key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        return (Hash(key) & 0x7fffffff) % partitions;
    }
}
