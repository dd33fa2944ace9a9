using Blueprint.Coordination.Etcd.Mvccpb;
using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

/// <summary>Every retained version of one key, oldest first; etcd's keyIndex and its backend rows in one.</summary>
internal sealed class KeyHistory
{
    public KeyHistory(ByteString key)
    {
        Key = key;
    }

    private KeyHistory()
    {
        Key = ByteString.Empty;
        IsUpperBound = true;
    }

    /// <summary>A probe greater than every key, for open-ended index views.</summary>
    public static KeyHistory UpperBound { get; } = new();

    public ByteString Key { get; }

    public bool IsUpperBound { get; }

    /// <summary>Versions in ascending revision order; at most one per revision.</summary>
    public List<KeyVersion> Versions { get; } = [];

    /// <summary>The newest version, or null when none is retained.</summary>
    public KeyVersion? Latest => Versions.Count == 0 ? null : Versions[^1];

    /// <summary>The key as it stood at <paramref name="revision"/>, or null when it did not exist then.</summary>
    public KeyValue? LiveAt(long revision)
    {
        var index = IndexAtOrBefore(revision);
        return index < 0 ? null : Versions[index].Kv;
    }

    /// <summary>Index of the newest version whose revision is at most <paramref name="revision"/>, or -1.</summary>
    public int IndexAtOrBefore(long revision)
    {
        int low = 0, high = Versions.Count - 1, found = -1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            if (Versions[middle].Revision <= revision)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found;
    }
}

/// <summary>One version of a key: a value written at a revision, or a tombstone when <see cref="Kv"/> is null.</summary>
internal sealed class KeyVersion(long revision, KeyHistory owner, KeyValue? kv)
{
    public long Revision { get; } = revision;

    public KeyHistory Owner { get; } = owner;

    /// <summary>The stored pair (treated as immutable), or null for a delete.</summary>
    public KeyValue? Kv { get; } = kv;

    /// <summary>Set by compaction; the version is dropped from the revision log on the same pass.</summary>
    public bool Compacted { get; set; }

    public bool IsTombstone => Kv is null;
}

/// <summary>Orders <see cref="KeyHistory"/> entries by key, with <see cref="KeyHistory.UpperBound"/> last.</summary>
internal sealed class KeyHistoryComparer : IComparer<KeyHistory>
{
    public static KeyHistoryComparer Instance { get; } = new();

    public int Compare(KeyHistory? x, KeyHistory? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x!.IsUpperBound)
        {
            return 1;
        }

        if (y!.IsUpperBound)
        {
            return -1;
        }

        return KeyComparer.Instance.Compare(x.Key, y.Key);
    }
}
