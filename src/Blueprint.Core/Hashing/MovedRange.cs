namespace Blueprint.Core.Hashing;

/// <summary>
/// A contiguous arc of the 64-bit hash space that changed owner: every key hash in
/// <c>(StartExclusive, EndInclusive]</c> (wrapping past <see cref="ulong.MaxValue"/> when
/// <c>StartExclusive ≥ EndInclusive</c>) moved from <see cref="From"/> to <see cref="To"/>.
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
/// <param name="StartExclusive">The arc start, exclusive.</param>
/// <param name="EndInclusive">The arc end, inclusive.</param>
/// <param name="From">The previous owner.</param>
/// <param name="To">The new owner.</param>
public readonly record struct MovedRange<TNode>(ulong StartExclusive, ulong EndInclusive, TNode From, TNode To)
{
    /// <summary>Gets the number of hash values in the arc, as a fraction of the whole 2^64 space.</summary>
    public double Fraction
    {
        get
        {
            // unchecked subtraction wraps, which is exactly the clockwise distance on the ring.
            ulong length = unchecked(EndInclusive - StartExclusive);
            return length == 0 ? 1.0 : length / 18446744073709551616.0;
        }
    }

    /// <summary>Returns whether <paramref name="hash"/> lies inside this arc.</summary>
    /// <param name="hash">A key hash.</param>
    /// <returns><see langword="true"/> when the arc contains the hash.</returns>
    public bool Contains(ulong hash)
    {
        ulong length = unchecked(EndInclusive - StartExclusive);
        return length == 0 || unchecked(hash - StartExclusive - 1) < length;
    }
}
