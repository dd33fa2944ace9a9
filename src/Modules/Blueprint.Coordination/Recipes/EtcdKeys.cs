using System.Globalization;
using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;

namespace Blueprint.Coordination.Recipes;

/// <summary>The etcd v3 requests the recipes share: key names, prefix ranges and the queue transaction.</summary>
internal static class EtcdKeys
{
    /// <summary>A recipe's own key under <paramref name="prefix"/>: the lease ID in lower-case hex, as etcd's concurrency package writes it.</summary>
    public static string Own(string prefix, long leaseId) =>
        prefix + leaseId.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>The prefix of a lock or election: <paramref name="name"/> and a slash.</summary>
    public static string Prefix(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return name + "/";
    }

    /// <summary>The key UTF-8 encoded.</summary>
    public static ByteString Bytes(string key) => ByteString.CopyFromUtf8(key);

    /// <summary>The range end that selects every key starting with <paramref name="prefix"/> (etcd's <c>GetPrefixRangeEnd</c>).</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        var end = System.Text.Encoding.UTF8.GetBytes(prefix);
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end.AsSpan(0, i + 1));
            }
        }

        // Every byte is 0xff: "\0" means "to the end of the key space".
        return ByteString.CopyFrom(0);
    }

    /// <summary>The oldest key under <paramref name="prefix"/> by create revision: the holder, or the leader.</summary>
    public static RangeRequest FirstCreated(string prefix) => new()
    {
        Key = Bytes(prefix),
        RangeEnd = PrefixEnd(prefix),
        SortTarget = RangeRequest.Types.SortTarget.Create,
        SortOrder = RangeRequest.Types.SortOrder.Ascend,
        Limit = 1,
    };

    /// <summary>The newest key under <paramref name="prefix"/> created at or before <paramref name="maxCreateRevision"/>: the one just ahead in the queue.</summary>
    public static RangeRequest LastCreatedUpTo(string prefix, long maxCreateRevision) => new()
    {
        Key = Bytes(prefix),
        RangeEnd = PrefixEnd(prefix),
        SortTarget = RangeRequest.Types.SortTarget.Create,
        SortOrder = RangeRequest.Types.SortOrder.Descend,
        MaxCreateRevision = maxCreateRevision,
        Limit = 1,
    };

    /// <summary>
    /// Joins the queue under a prefix: when <paramref name="key"/> does not exist, puts it with
    /// <paramref name="value"/> on the lease; otherwise reads it (the session already queued, so it
    /// keeps its place). <paramref name="alsoRead"/> rides in both branches.
    /// </summary>
    public static TxnRequest Enqueue(string key, string value, long leaseId, RangeRequest? alsoRead)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(CreateRevisionIs(key, 0));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(key), Value = ByteString.CopyFromUtf8(value), Lease = leaseId } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Bytes(key) } });
        if (alsoRead is not null)
        {
            txn.Success.Add(new RequestOp { RequestRange = alsoRead });
            txn.Failure.Add(new RequestOp { RequestRange = alsoRead.Clone() });
        }

        return txn;
    }

    /// <summary>The guard "<paramref name="key"/> is still the incarnation created at <paramref name="createRevision"/>" (0: does not exist).</summary>
    public static Compare CreateRevisionIs(string key, long createRevision) => CreateRevisionIs(Bytes(key), createRevision);

    /// <summary>As above, for a key given as bytes.</summary>
    public static Compare CreateRevisionIs(ByteString key, long createRevision) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = createRevision,
    };

    /// <summary>Deletes <paramref name="key"/> only while it is the incarnation created at <paramref name="createRevision"/>, so a stale handle never deletes a newer holder's key.</summary>
    public static TxnRequest DeleteIfOwned(string key, long createRevision) => DeleteIfOwned(Bytes(key), createRevision);

    /// <summary>As above, for a key given as bytes.</summary>
    public static TxnRequest DeleteIfOwned(ByteString key, long createRevision)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(CreateRevisionIs(key, createRevision));
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key } });
        return txn;
    }

    /// <summary>The key-value a queue transaction wrote or found for the caller's own key.</summary>
    public static (long CreateRevision, KeyValue? Existing) OwnEntry(TxnResponse response)
    {
        if (response.Succeeded)
        {
            return (response.Header.Revision, null);
        }

        var existing = response.Responses[0].ResponseRange.Kvs[0];
        return (existing.CreateRevision, existing);
    }
}
