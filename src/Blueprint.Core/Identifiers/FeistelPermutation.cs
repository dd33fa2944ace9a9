using System.Buffers.Binary;
using System.IO.Hashing;

namespace Blueprint.Core.Identifiers;

/// <summary>
/// A keyed bijection of <c>[0, DomainSize)</c> onto itself, so sequential IDs become codes that are
/// neither sequential nor guessable without the key, and never collide. A balanced Feistel network
/// (Luby &amp; Rackoff 1988) over the smallest even number of bits covering the domain, with cycle
/// walking (Black &amp; Rogaway 2002) to stay inside a domain that is not a power of two. Not
/// encryption-grade secrecy: an obfuscation with a proof of uniqueness.
/// </summary>
public sealed class FeistelPermutation
{
    /// <summary>Rounds of the network: four make it a pseudorandom permutation; more cost little.</summary>
    public const int Rounds = 6;

    /// <summary>The largest domain: 2^62 values.</summary>
    public const ulong DomainSizeMax = 1UL << 62;

    private readonly ulong[] _roundKeys;
    private readonly int _halfBits;
    private readonly ulong _halfMask;

    /// <summary>Creates the permutation of <c>[0, domainSize)</c> chosen by <paramref name="key"/>.</summary>
    /// <param name="domainSize">How many values; from 2 to <see cref="DomainSizeMax"/>.</param>
    /// <param name="key">The secret that picks the permutation; at least 16 bytes.</param>
    public FeistelPermutation(ulong domainSize, ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(domainSize, 2UL);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(domainSize, DomainSizeMax);
        if (key.Length < 16)
        {
            throw new ArgumentException("the key must be at least 16 bytes", nameof(key));
        }

        DomainSize = domainSize;
        var bits = 64 - ulong.LeadingZeroCount(domainSize - 1);
        _halfBits = (int)((bits + 1) / 2);
        _halfMask = (1UL << _halfBits) - 1;
        _roundKeys = new ulong[Rounds];
        Span<byte> input = stackalloc byte[key.Length + 4];
        key.CopyTo(input);
        for (var round = 0; round < Rounds; round++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(input[key.Length..], round);
            _roundKeys[round] = XxHash64.HashToUInt64(input);
        }
    }

    /// <summary>How many values the permutation maps.</summary>
    public ulong DomainSize { get; }

    /// <summary>The image of <paramref name="value"/>.</summary>
    public ulong Permute(ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(value, DomainSize);

        // Cycle walking: the network permutes [0, 2^(2·half)); repeat until the image is in the domain.
        // It terminates because the value's cycle contains the value itself, which is in the domain.
        do
        {
            value = Forward(value);
        }
        while (value >= DomainSize);
        return value;
    }

    /// <summary>The value whose image is <paramref name="image"/>.</summary>
    public ulong Invert(ulong image)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(image, DomainSize);
        do
        {
            image = Backward(image);
        }
        while (image >= DomainSize);
        return image;
    }

    private ulong Forward(ulong value)
    {
        var left = value >> _halfBits;
        var right = value & _halfMask;
        for (var round = 0; round < Rounds; round++)
        {
            (left, right) = (right, left ^ Round(round, right));
        }

        return (left << _halfBits) | right;
    }

    private ulong Backward(ulong value)
    {
        var left = value >> _halfBits;
        var right = value & _halfMask;
        for (var round = Rounds - 1; round >= 0; round--)
        {
            (left, right) = (right ^ Round(round, left), left);
        }

        return (left << _halfBits) | right;
    }

    private ulong Round(int round, ulong half)
    {
        Span<byte> input = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(input, _roundKeys[round]);
        BinaryPrimitives.WriteUInt64LittleEndian(input[8..], half);
        return XxHash64.HashToUInt64(input) & _halfMask;
    }
}
