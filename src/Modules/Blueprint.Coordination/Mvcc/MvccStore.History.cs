using Blueprint.Coordination.Etcd.Mvccpb;

namespace Blueprint.Coordination.Mvcc;

/// <summary>The events of one revision that fall inside a watched range, in sub-revision order.</summary>
/// <param name="Revision">The main revision.</param>
/// <param name="Events">The events, never empty.</param>
internal sealed record RevisionEvents(long Revision, IReadOnlyList<Event> Events);

/// <summary>One bounded read of the revision log for a watcher.</summary>
/// <param name="IsCompacted">The requested start is older than <paramref name="CompactRevision"/>; nothing was read.</param>
/// <param name="CompactRevision">The store's compact revision at the read.</param>
/// <param name="StoreRevision">The store's revision at the read.</param>
/// <param name="Revisions">Matching events grouped by revision, whole revisions only.</param>
/// <param name="NextRevision">Where the next read continues; everything before it has been read.</param>
internal sealed record HistoryRead(bool IsCompacted, long CompactRevision, long StoreRevision, IReadOnlyList<RevisionEvents> Revisions, long NextRevision);

public sealed partial class MvccStore
{
    /// <summary>
    /// Reads the events in <paramref name="range"/> from <paramref name="fromRevision"/> on, in
    /// revision order, stopping at a revision boundary once <paramref name="eventsMax"/> events or
    /// <paramref name="scanMax"/> log entries have been taken, so that one call holds the read lock
    /// for a bounded time. A revision is never split.
    /// </summary>
    internal HistoryRead ReadHistory(long fromRevision, KeyRange range, bool prevKv, int eventsMax, int scanMax)
    {
        _lock.EnterReadLock();
        try
        {
            var state = _state;
            if (fromRevision < state.CompactRevision)
            {
                return new HistoryRead(true, state.CompactRevision, state.Revision, [], fromRevision);
            }

            var log = state.Log;
            var revisions = new List<RevisionEvents>();
            var next = fromRevision;
            int taken = 0, scanned = 0, i = FirstAtOrAfter(log, fromRevision);
            while (i < log.Count && taken < eventsMax && scanned < scanMax)
            {
                var revision = log[i].Revision;
                List<Event>? events = null;
                for (; i < log.Count && log[i].Revision == revision; i++)
                {
                    scanned++;
                    var version = log[i];
                    if (range.Contains(version.Owner.Key))
                    {
                        (events ??= []).Add(ToEvent(version, prevKv));
                    }
                }

                if (events is not null)
                {
                    revisions.Add(new RevisionEvents(revision, events));
                    taken += events.Count;
                }

                next = revision + 1;
            }

            if (i == log.Count)
            {
                next = Math.Max(fromRevision, state.Revision + 1);
            }

            return new HistoryRead(false, state.CompactRevision, state.Revision, revisions, next);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The revision and compact revision read together, so that they describe one state.</summary>
    internal (long Revision, long CompactRevision) Positions()
    {
        _lock.EnterReadLock();
        try
        {
            return (_state.Revision, _state.CompactRevision);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private static int FirstAtOrAfter(List<KeyVersion> log, long revision)
    {
        int low = 0, high = log.Count;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (log[middle].Revision < revision)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static Event ToEvent(KeyVersion version, bool prevKv)
    {
        var change = version.IsTombstone
            ? new Event { Type = Event.Types.EventType.Delete, Kv = new KeyValue { Key = version.Owner.Key, ModRevision = version.Revision } }
            : new Event { Type = Event.Types.EventType.Put, Kv = version.Kv };
        if (prevKv)
        {
            var index = version.Owner.IndexAtOrBefore(version.Revision);
            var previous = index > 0 ? version.Owner.Versions[index - 1].Kv : null;
            if (previous is not null)
            {
                change.PrevKv = previous;
            }
        }

        return change;
    }
}
