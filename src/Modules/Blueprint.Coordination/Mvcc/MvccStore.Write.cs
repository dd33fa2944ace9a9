using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

public sealed partial class MvccStore
{
    private PutResponse ApplyPut(PutRequest request, Batch batch)
    {
        CheckPutShape(request);
        CheckPutState(request);
        var response = ExecutePut(request, batch);
        response.Header = new ResponseHeader { Revision = batch.Revision };
        return response;
    }

    private DeleteRangeResponse ApplyDeleteRange(DeleteRangeRequest request, Batch batch)
    {
        if (request.Key.IsEmpty)
        {
            throw MvccErrors.EmptyKey();
        }

        var response = ExecuteDeleteRange(request, batch);
        response.Header = new ResponseHeader { Revision = batch.Events.Count > 0 ? batch.Revision : _state.Revision };
        return response;
    }

    /// <summary>Checks that need no state (etcd's gRPC-layer checkPutRequest).</summary>
    private static void CheckPutShape(PutRequest request)
    {
        if (request.Key.IsEmpty)
        {
            throw MvccErrors.EmptyKey();
        }

        if (request.IgnoreValue && !request.Value.IsEmpty)
        {
            throw MvccErrors.ValueProvided();
        }

        if (request.IgnoreLease && request.Lease != 0)
        {
            throw MvccErrors.LeaseProvided();
        }
    }

    /// <summary>Checks against the state before the request: the key must exist for ignore_*, the lease must exist.</summary>
    private void CheckPutState(PutRequest request)
    {
        if ((request.IgnoreValue || request.IgnoreLease) && LiveAt(request.Key, _state.Revision) is null)
        {
            throw MvccErrors.KeyNotFound();
        }

        if (request.Lease != 0 && !_state.Leases.ContainsKey(request.Lease))
        {
            throw MvccErrors.LeaseNotFound();
        }
    }

    /// <summary>Writes a new version; every check has passed, so this cannot fail.</summary>
    private PutResponse ExecutePut(PutRequest request, Batch batch)
    {
        if (!_state.ByKey.TryGetValue(request.Key, out var history))
        {
            history = new KeyHistory(request.Key);
            _state.ByKey.Add(request.Key, history);
            _state.Index.Add(history);
        }

        var previous = history.Latest?.Kv;
        Invariant(history.Latest is null || history.Latest.Revision < batch.Revision, "a key changes at most once per revision");
        var lease = request.IgnoreLease ? previous!.Lease : request.Lease;
        var kv = new KeyValue
        {
            Key = request.Key,
            CreateRevision = previous?.CreateRevision ?? batch.Revision,
            ModRevision = batch.Revision,
            Version = (previous?.Version ?? 0) + 1,
            Value = request.IgnoreValue ? previous!.Value : request.Value,
            Lease = lease,
        };
        Append(history, kv, batch.Revision);
        MoveLease(request.Key, previous?.Lease ?? 0, lease);
        var change = new Event { Type = Event.Types.EventType.Put, Kv = kv };
        if (previous is not null)
        {
            change.PrevKv = previous;
        }

        batch.Events.Add(change);
        var response = new PutResponse();
        if (request.PrevKv && previous is not null)
        {
            response.PrevKv = previous.Clone();
        }

        return response;
    }

    private DeleteRangeResponse ExecuteDeleteRange(DeleteRangeRequest request, Batch batch)
    {
        var response = new DeleteRangeResponse();
        var live = KeysIn(new KeyRange(request.Key, request.RangeEnd))
            .Where(history => history.Latest is { Kv: not null })
            .ToList();
        foreach (var history in live)
        {
            var previous = Delete(history, batch);
            response.Deleted++;
            if (request.PrevKv)
            {
                response.PrevKvs.Add(previous.Clone());
            }
        }

        return response;
    }

    /// <summary>Writes a tombstone for a live key and detaches it from its lease; answers the deleted pair.</summary>
    private KeyValue Delete(KeyHistory history, Batch batch)
    {
        var previous = history.Latest!.Kv!;
        Invariant(history.Latest.Revision < batch.Revision, "a key changes at most once per revision");
        Append(history, null, batch.Revision);
        MoveLease(history.Key, previous.Lease, 0);
        batch.Events.Add(new Event
        {
            Type = Event.Types.EventType.Delete,
            Kv = new KeyValue { Key = history.Key, ModRevision = batch.Revision },
            PrevKv = previous,
        });
        return previous;
    }

    private void Append(KeyHistory history, KeyValue? kv, long revision)
    {
        var version = new KeyVersion(revision, history, kv);
        history.Versions.Add(version);
        _state.Log.Add(version);
    }

    private void MoveLease(ByteString key, long from, long to)
    {
        if (from == to)
        {
            return;
        }

        if (from != 0 && _state.Leases.TryGetValue(from, out var old))
        {
            old.Keys.Remove(key);
        }

        if (to != 0)
        {
            _state.Leases[to].Keys.Add(key);
        }
    }
}
