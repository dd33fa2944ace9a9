using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Blueprint.Core.Hashing;

/// <summary>
/// Stable 64-bit hashing on XxHash3: the same key hashes to the same value in every process,
/// on every machine and in every release, unlike <see cref="string.GetHashCode()"/> which is randomized per process.
/// </summary>
public static class StableHash
{
    private const int StackBufferBytesMax = 256;

    /// <summary>Hashes the UTF-8 bytes of <paramref name="key"/> with XxHash3.</summary>
    /// <param name="key">The key; UTF-8 keeps the value portable to other languages.</param>
    /// <param name="seed">A seed that selects an independent hash function.</param>
    /// <returns>The 64-bit hash.</returns>
    public static ulong Hash64(string key, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Hash64(key.AsSpan(), seed);
    }

    /// <summary>Hashes the UTF-8 bytes of <paramref name="key"/> with XxHash3 without allocating.</summary>
    /// <param name="key">The key characters.</param>
    /// <param name="seed">A seed that selects an independent hash function.</param>
    /// <returns>The 64-bit hash.</returns>
    public static ulong Hash64(ReadOnlySpan<char> key, long seed = 0)
    {
        int byteCountMax = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (byteCountMax <= StackBufferBytesMax)
        {
            Span<byte> buffer = stackalloc byte[StackBufferBytesMax];
            int written = Encoding.UTF8.GetBytes(key, buffer);
            return XxHash3.HashToUInt64(buffer[..written], seed);
        }

        // Long keys borrow a pooled buffer so the path stays allocation-free in steady state.
        byte[] rented = ArrayPool<byte>.Shared.Rent(byteCountMax);
        try
        {
            int written = Encoding.UTF8.GetBytes(key, rented);
            return XxHash3.HashToUInt64(rented.AsSpan(0, written), seed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Hashes raw bytes with XxHash3.</summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="seed">A seed that selects an independent hash function.</param>
    /// <returns>The 64-bit hash.</returns>
    public static ulong Hash64(ReadOnlySpan<byte> key, long seed = 0) => XxHash3.HashToUInt64(key, seed);

    /// <summary>Hashes a 64-bit integer key (little-endian bytes) with XxHash3.</summary>
    /// <param name="key">The key.</param>
    /// <param name="seed">A seed that selects an independent hash function.</param>
    /// <returns>The 64-bit hash.</returns>
    public static ulong Hash64(ulong key, long seed = 0)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, key);
        return XxHash3.HashToUInt64(bytes, seed);
    }

    /// <summary>
    /// Combines two 64-bit hashes into one well-mixed value with the SplitMix64 finalizer (Steele, Lea &amp; Flood 2014).
    /// Rendezvous hashing scores each (key, node) pair with it, so a lookup hashes the key bytes once.
    /// </summary>
    /// <param name="a">The first hash.</param>
    /// <param name="b">The second hash.</param>
    /// <returns>The mixed value.</returns>
    public static ulong Mix(ulong a, ulong b)
    {
        // Multiplying by the odd golden-ratio constant and xoring keep the map a bijection in each argument,
        // so two nodes never tie on the same key.
        ulong z = a ^ (b * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
