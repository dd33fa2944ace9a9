using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace Blueprint.Core.Probabilistic;

/// <summary>
/// Kirsch &amp; Mitzenmacher, "Less Hashing, Same Performance: Building a Better Bloom Filter" (2006):
/// the k probe positions are <c>h1 + i·h2 mod m</c>, from a single 128-bit XxHash3 split into two 64-bit halves,
/// with no loss in the asymptotic false-positive rate.
/// </summary>
internal readonly struct BloomHash
{
    private const int StackBufferBytesMax = 256;

    private BloomHash(ulong h1, ulong h2)
    {
        H1 = h1;

        // An odd step never cycles early when m is a power of two, and is harmless otherwise.
        H2 = h2 | 1;
    }

    public ulong H1 { get; }

    public ulong H2 { get; }

    public static BloomHash Of(ReadOnlySpan<byte> item)
    {
        UInt128 hash = XxHash128.HashToUInt128(item);
        return new BloomHash((ulong)hash, (ulong)(hash >> 64));
    }

    public static BloomHash Of(ReadOnlySpan<char> item)
    {
        int byteCountMax = Encoding.UTF8.GetMaxByteCount(item.Length);
        if (byteCountMax <= StackBufferBytesMax)
        {
            Span<byte> buffer = stackalloc byte[StackBufferBytesMax];
            int written = Encoding.UTF8.GetBytes(item, buffer);
            return Of(buffer[..written]);
        }

        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(byteCountMax);
        try
        {
            int written = Encoding.UTF8.GetBytes(item, rented);
            return Of(rented.AsSpan(0, written));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Probe(int i, ulong bitCount) => unchecked(H1 + ((ulong)i * H2)) % bitCount;
}
