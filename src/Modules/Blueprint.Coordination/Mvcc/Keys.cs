using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

/// <summary>Byte-wise ordering of keys, the order etcd ranges and sorts in.</summary>
internal sealed class KeyComparer : IComparer<ByteString>
{
    public static KeyComparer Instance { get; } = new();

    public int Compare(ByteString? x, ByteString? y) =>
        (x ?? ByteString.Empty).Span.SequenceCompareTo((y ?? ByteString.Empty).Span);
}

/// <summary>
/// A key interval in etcd's encoding: an empty end names the single key, an end of one zero byte
/// means every key from <see cref="Key"/> on, any other end is exclusive.
/// </summary>
internal readonly record struct KeyRange(ByteString Key, ByteString End)
{
    public bool IsSingle => End.IsEmpty;

    public bool IsUnbounded => End.Length == 1 && End[0] == 0;

    /// <summary>True when no key can fall inside the interval.</summary>
    public bool IsEmpty => !IsSingle && !IsUnbounded && KeyComparer.Instance.Compare(Key, End) >= 0;

    public bool Contains(ByteString key)
    {
        if (IsSingle)
        {
            return key.Equals(Key);
        }

        if (KeyComparer.Instance.Compare(key, Key) < 0)
        {
            return false;
        }

        return IsUnbounded || KeyComparer.Instance.Compare(key, End) < 0;
    }
}
