namespace Blueprint.Testing.Linearizability;

/// <summary>A fixed-size set of operation ids: which operations a partial linearization contains.</summary>
internal sealed class Bitset(int size)
{
    public ulong[] Words { get; } = new ulong[(size + 63) / 64];

    public void Set(int id) => Words[id >> 6] |= 1UL << (id & 63);

    public void Clear(int id) => Words[id >> 6] &= ~(1UL << (id & 63));

    public ulong[] CopyWords() => (ulong[])Words.Clone();

    public int Hash()
    {
        var hash = new HashCode();
        foreach (ulong word in Words)
        {
            hash.Add(word);
        }

        return hash.ToHashCode();
    }
}
