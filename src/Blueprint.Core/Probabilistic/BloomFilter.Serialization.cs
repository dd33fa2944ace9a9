using System.Buffers.Binary;
using System.IO.Hashing;

namespace Blueprint.Core.Probabilistic;

/// <content>
/// The versioned serialized form, all little-endian:
/// <c>magic "BPBF" (4) · version u16 (2) · reserved u16 (2) · k i32 (4) · m i64 (8) · words u64[⌈m/64⌉] · XxHash64 of everything before (8)</c>.
/// </content>
public sealed partial class BloomFilter
{
    /// <summary>The current serialization format version.</summary>
    public const ushort FormatVersion = 1;

    private const int HeaderBytes = 20;
    private const int ChecksumBytes = 8;
    private static ReadOnlySpan<byte> Magic => "BPBF"u8;

    /// <summary>Serializes the filter in the versioned, checksummed format.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Serialize()
    {
        // BitCountMax keeps this length within a byte array, so the int arithmetic cannot overflow.
        byte[] bytes = new byte[HeaderBytes + (_words.Length * sizeof(ulong)) + ChecksumBytes];
        Span<byte> span = bytes;
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], HashCount);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], BitCount);
        for (int i = 0; i < _words.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[(HeaderBytes + (i * sizeof(ulong)))..], Volatile.Read(ref _words[i]));
        }

        int payloadBytes = bytes.Length - ChecksumBytes;
        BinaryPrimitives.WriteUInt64LittleEndian(span[payloadBytes..], XxHash64.HashToUInt64(span[..payloadBytes]));
        return bytes;
    }

    /// <summary>Reads a filter written by <see cref="Serialize"/>.</summary>
    /// <param name="bytes">The serialized form.</param>
    /// <returns>The filter.</returns>
    /// <exception cref="BloomFilterFormatException">The input is truncated, corrupt, or of an unknown version.</exception>
    public static BloomFilter Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderBytes + ChecksumBytes)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter is truncated: {bytes.Length} bytes, the header and checksum alone need {HeaderBytes + ChecksumBytes}.");
        }

        if (!bytes[..4].SequenceEqual(Magic))
        {
            throw new BloomFilterFormatException("Input is not a serialized Bloom filter: the magic bytes 'BPBF' are missing.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]);
        if (version != FormatVersion)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter has format version {version}; this build reads version {FormatVersion}.");
        }

        ushort reserved = BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]);
        if (reserved != 0)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter header is corrupt: the reserved field is {reserved}, not 0.");
        }

        int hashCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        long bitCount = BinaryPrimitives.ReadInt64LittleEndian(bytes[12..]);
        if (bitCount < 1 || bitCount > BitCountMax)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter header is corrupt: m={bitCount} is outside 1..BitCountMax ({BitCountMax}).");
        }

        // k probes can set at most m distinct bits, and more than HashCountMax is never written by this class.
        if (hashCount < 1 || hashCount > HashCountMax || hashCount > bitCount)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter header is corrupt: k={hashCount} is outside 1..min(HashCountMax ({HashCountMax}), m={bitCount}).");
        }

        long wordCount = (bitCount + 63) / 64;
        long expectedBytes = HeaderBytes + (wordCount * sizeof(ulong)) + ChecksumBytes;
        if (bytes.Length != expectedBytes)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter is truncated or padded: {bytes.Length} bytes, the header (m={bitCount}) implies {expectedBytes}.");
        }

        int payloadBytes = bytes.Length - ChecksumBytes;
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes[payloadBytes..]);
        ulong actual = XxHash64.HashToUInt64(bytes[..payloadBytes]);
        if (stored != actual)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter is corrupt: checksum {actual:x16} does not match the stored {stored:x16}.");
        }

        ulong[] words = new ulong[wordCount];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(HeaderBytes + (i * sizeof(ulong)))..]);
        }

        // Probes never reach past bit m − 1, so a set bit there did not come from this class and would skew SetBitCount.
        int usedBitsInLastWord = (int)(bitCount % 64);
        if (usedBitsInLastWord != 0 && (words[^1] >> usedBitsInLastWord) != 0)
        {
            throw new BloomFilterFormatException($"Serialized Bloom filter is corrupt: bits at or past m={bitCount} are set in the last word.");
        }

        return new BloomFilter(words, bitCount, hashCount);
    }
}
