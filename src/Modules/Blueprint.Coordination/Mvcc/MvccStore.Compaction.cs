using Blueprint.Coordination.Etcd.Rpc;

namespace Blueprint.Coordination.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Physically drops every version superseded at <c>revision</c>: each key keeps its newest
    /// version at or below the compaction revision when that version is a value, so reads at the
    /// compaction revision still answer. A tombstone at exactly the compaction revision is kept too
    /// (etcd drops it) so that a watch starting at the compaction revision still sees that delete;
    /// the next compaction removes it. The revision does not change.
    /// </summary>
    private CompactionResponse ApplyCompaction(CompactionRequest request)
    {
        var revision = request.Revision;
        if (revision <= _state.CompactRevision)
        {
            throw MvccErrors.Compacted();
        }

        if (revision > _state.Revision)
        {
            throw MvccErrors.FutureRevision();
        }

        var emptied = new List<KeyHistory>();
        foreach (var history in _state.Index)
        {
            var newest = history.IndexAtOrBefore(revision);
            if (newest < 0)
            {
                continue;
            }

            var kept = history.Versions[newest];
            var keep = !kept.IsTombstone || kept.Revision == revision;
            var drop = keep ? newest : newest + 1;
            for (var i = 0; i < drop; i++)
            {
                history.Versions[i].Compacted = true;
            }

            history.Versions.RemoveRange(0, drop);
            if (history.Versions.Count == 0)
            {
                emptied.Add(history);
            }
        }

        foreach (var history in emptied)
        {
            _state.Index.Remove(history);
            _state.ByKey.Remove(history.Key);
        }

        _state.Log = _state.Log.Where(version => !version.Compacted).ToList();
        _state.CompactRevision = revision;
        return new CompactionResponse { Header = Header() };
    }
}
