using Blueprint.Coordination.Etcd.Rpc;

namespace Blueprint.Coordination.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Records a lease. The proposer picks the ID before replication so that every replica agrees;
    /// enforcing a minimum TTL and tracking expiry are the lease service's job. Keeps the revision.
    /// </summary>
    private LeaseGrantResponse ApplyLeaseGrant(LeaseGrantRequest request)
    {
        if (request.ID == 0)
        {
            throw MvccErrors.LeaseIdMissing();
        }

        if (request.TTL > _limits.LeaseTtlSecondsMax)
        {
            throw MvccErrors.LeaseTtlTooLarge();
        }

        if (_state.Leases.ContainsKey(request.ID))
        {
            throw MvccErrors.LeaseExists();
        }

        _state.Leases.Add(request.ID, new LeaseState(request.ID, request.TTL));
        return new LeaseGrantResponse { Header = Header(), ID = request.ID, TTL = request.TTL };
    }

    /// <summary>Removes a lease and deletes its keys, in key order, as one revision (none when it owns no key).</summary>
    private LeaseRevokeResponse ApplyLeaseRevoke(LeaseRevokeRequest request, Batch batch)
    {
        if (!_state.Leases.TryGetValue(request.ID, out var lease))
        {
            throw MvccErrors.LeaseNotFound();
        }

        foreach (var key in lease.Keys.ToList())
        {
            Delete(_state.ByKey[key], batch);
        }

        Invariant(lease.Keys.Count == 0, "a revoked lease still owns keys");
        _state.Leases.Remove(request.ID);
        return new LeaseRevokeResponse
        {
            Header = new ResponseHeader { Revision = batch.Events.Count > 0 ? batch.Revision : _state.Revision },
        };
    }
}
