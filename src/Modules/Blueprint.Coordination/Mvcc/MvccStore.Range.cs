using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>The request checks etcd makes before reading: key present, sort option known, revision retained and not in the future.</summary>
    private void CheckRange(RangeRequest request)
    {
        if (request.Key.IsEmpty)
        {
            throw MvccErrors.EmptyKey();
        }

        if (!Enum.IsDefined(request.SortOrder) || !Enum.IsDefined(request.SortTarget))
        {
            throw MvccErrors.InvalidSortOption();
        }

        CheckReadRevision(request.Revision);
    }

    private void CheckReadRevision(long revision)
    {
        if (revision <= 0)
        {
            return;
        }

        if (revision > _state.Revision)
        {
            throw MvccErrors.FutureRevision();
        }

        if (revision < _state.CompactRevision)
        {
            throw MvccErrors.Compacted();
        }
    }

    /// <summary>
    /// Reads at the request's revision, or at <paramref name="latestRevision"/> when it asks for the
    /// latest; follows etcd's apply.go: filters, then sort, then limit; <c>count</c> counts every key
    /// in the range before the revision filters.
    /// </summary>
    private RangeResponse RangeAt(RangeRequest request, long latestRevision)
    {
        var readRevision = request.Revision > 0 ? request.Revision : latestRevision;
        var sortOrder = request.SortOrder;
        if (request.SortTarget != RangeRequest.Types.SortTarget.Key && sortOrder == RangeRequest.Types.SortOrder.None)
        {
            // Keys come out in ascending key order, so only another target needs an explicit sort.
            sortOrder = RangeRequest.Types.SortOrder.Ascend;
        }

        var filtered = request.MinModRevision != 0 || request.MaxModRevision != 0
            || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;
        var needsAll = sortOrder != RangeRequest.Types.SortOrder.None || filtered;
        var response = new RangeResponse();
        var found = new List<KeyValue>();
        long count = 0;
        foreach (var history in KeysIn(new KeyRange(request.Key, request.RangeEnd)))
        {
            var kv = history.LiveAt(readRevision);
            if (kv is null)
            {
                continue;
            }

            count++;
            if (request.CountOnly || (!needsAll && request.Limit > 0 && found.Count > request.Limit) || !Passes(request, kv))
            {
                continue;
            }

            found.Add(kv);
        }

        if (sortOrder != RangeRequest.Types.SortOrder.None)
        {
            Sort(found, request.SortTarget, sortOrder);
        }

        if (request.Limit > 0 && found.Count > request.Limit)
        {
            found.RemoveRange((int)request.Limit, found.Count - (int)request.Limit);
            response.More = true;
        }

        foreach (var kv in found)
        {
            response.Kvs.Add(request.KeysOnly
                ? new KeyValue { Key = kv.Key, CreateRevision = kv.CreateRevision, ModRevision = kv.ModRevision, Version = kv.Version, Lease = kv.Lease }
                : kv.Clone());
        }

        response.Count = count;
        return response;
    }

    private static bool Passes(RangeRequest request, KeyValue kv) =>
        (request.MinModRevision == 0 || kv.ModRevision >= request.MinModRevision)
        && (request.MaxModRevision == 0 || kv.ModRevision <= request.MaxModRevision)
        && (request.MinCreateRevision == 0 || kv.CreateRevision >= request.MinCreateRevision)
        && (request.MaxCreateRevision == 0 || kv.CreateRevision <= request.MaxCreateRevision);

    private static void Sort(List<KeyValue> kvs, RangeRequest.Types.SortTarget target, RangeRequest.Types.SortOrder order)
    {
        Comparison<KeyValue> byTarget = target switch
        {
            RangeRequest.Types.SortTarget.Version => (a, b) => a.Version.CompareTo(b.Version),
            RangeRequest.Types.SortTarget.Create => (a, b) => a.CreateRevision.CompareTo(b.CreateRevision),
            RangeRequest.Types.SortTarget.Mod => (a, b) => a.ModRevision.CompareTo(b.ModRevision),
            RangeRequest.Types.SortTarget.Value => (a, b) => KeyComparer.Instance.Compare(a.Value, b.Value),
            _ => (_, _) => 0,
        };

        // Ties fall back to the key so that every replica answers in the same order.
        Comparison<KeyValue> total = (a, b) =>
        {
            var result = byTarget(a, b);
            return result != 0 ? result : KeyComparer.Instance.Compare(a.Key, b.Key);
        };
        kvs.Sort(order == RangeRequest.Types.SortOrder.Descend ? (a, b) => total(b, a) : total);
    }

    /// <summary>Keys with a retained version inside <paramref name="range"/>, in key order.</summary>
    private IEnumerable<KeyHistory> KeysIn(KeyRange range)
    {
        if (range.IsSingle)
        {
            if (_state.ByKey.TryGetValue(range.Key, out var single))
            {
                yield return single;
            }

            yield break;
        }

        if (range.IsEmpty || _state.Index.Count == 0)
        {
            yield break;
        }

        var upper = range.IsUnbounded ? KeyHistory.UpperBound : new KeyHistory(range.End);
        foreach (var history in _state.Index.GetViewBetween(new KeyHistory(range.Key), upper))
        {
            if (!range.IsUnbounded && history.Key.Equals(range.End))
            {
                yield break;
            }

            yield return history;
        }
    }

    /// <summary>The live pair of <paramref name="key"/> at <paramref name="revision"/>, or null.</summary>
    private KeyValue? LiveAt(ByteString key, long revision) =>
        _state.ByKey.TryGetValue(key, out var history) ? history.LiveAt(revision) : null;
}
