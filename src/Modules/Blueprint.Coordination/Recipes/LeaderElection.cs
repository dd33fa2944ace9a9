// The election of etcd's client/v3/concurrency (election.go): campaigners queue as keys under the
// election's prefix, ordered by create revision; the oldest key is the leader and its value is the
// leader's proclamation.
using System.Runtime.CompilerServices;
using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;
using Grpc.Core;

namespace Blueprint.Coordination.Recipes;

/// <summary>
/// A leader election named <c>name</c> over the etcd v3 API, compatible with etcd's own
/// <c>concurrency.Election</c> (and so with <c>etcdctl elect</c>): the leader is the key
/// <c>name/&lt;lease id hex&gt;</c> with the smallest create revision under <c>name/</c>.
/// </summary>
/// <remarks>
/// Leadership is a lease, exactly as a <see cref="DistributedLock"/> is: a paused leader may act
/// after its lease expired and a successor was elected. Pass <see cref="LeadershipHandle.FencingToken"/>
/// to whatever the leader writes, and have it reject tokens lower than the highest it has seen.
/// </remarks>
public sealed class LeaderElection
{
    private readonly EtcdSession _session;
    private readonly string _name;
    private readonly string _prefix;

    /// <summary>Creates the election named <paramref name="name"/> on <paramref name="session"/>.</summary>
    /// <param name="session">The session whose lease the campaign key lives on.</param>
    /// <param name="name">The election's name; its keys live under <c>name/</c>.</param>
    public LeaderElection(EtcdSession session, string name)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _name = name;
        _prefix = EtcdKeys.Prefix(name);
    }

    /// <summary>
    /// Campaigns with <paramref name="value"/> and returns once this session leads. When the session
    /// already campaigns (its key exists), it keeps its place and its value is replaced by <paramref name="value"/>.
    /// </summary>
    /// <param name="value">What the leader announces (an address, an ID).</param>
    /// <param name="cancellationToken">Stops campaigning; the campaign key is deleted.</param>
    /// <exception cref="SessionLostException">The session's lease ended before or while waiting.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="RpcException">etcd failed a request (each one has a deadline).</exception>
    public async Task<LeadershipHandle> CampaignAsync(string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var (key, createRevision) = await KeyQueue.TakeTurnAsync(
            _session,
            _prefix,
            value,
            async (key, createRevision, existing, token) =>
            {
                if (existing.Value.ToStringUtf8() != value)
                {
                    await LeadershipHandle.PutIfOwnedAsync(_session, key, createRevision, value, token).ConfigureAwait(false);
                }
            },
            $"election '{_name}'",
            cancellationToken).ConfigureAwait(false);
        return new LeadershipHandle(_session, key, createRevision);
    }

    /// <summary>The current leader's key, value and fencing token (its key's create revision), or null when nobody leads.</summary>
    /// <exception cref="RpcException">etcd failed the read or its deadline passed.</exception>
    public async Task<(string Key, string Value, long FencingToken)?> LeaderAsync(CancellationToken cancellationToken = default) =>
        await LeaderKeyAsync(cancellationToken).ConfigureAwait(false) is { } leader
            ? (leader.Key.ToStringUtf8(), leader.Value.ToStringUtf8(), leader.CreateRevision)
            : null;

    /// <summary>The current leader's whole key-value, or null when nobody leads.</summary>
    internal async Task<KeyValue?> LeaderKeyAsync(CancellationToken cancellationToken)
    {
        var leader = await _session.Kv.RangeAsync(
            EtcdKeys.FirstCreated(_prefix),
            deadline: RecipeTimeouts.CallDeadline(),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return leader.Kvs.Count == 0 ? null : leader.Kvs[0];
    }

    /// <summary>
    /// The leader's value now (once someone leads), then again each time a new leader is elected or
    /// the leader proclaims. Like etcd's <c>Observe</c>, it always reaches the most recent value but
    /// may skip values that were superseded before it looked; it never yields the same proclamation twice.
    /// Transient failures are retried; the sequence ends only through <paramref name="cancellationToken"/>
    /// (or a non-transient error).
    /// </summary>
    public async IAsyncEnumerable<string> ObserveAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var leader in ObserveLeaderKeysAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return leader.Value.ToStringUtf8();
        }
    }

    /// <summary>As <see cref="ObserveAsync"/>, the leader's whole key-value each time.</summary>
    internal async IAsyncEnumerable<KeyValue> ObserveLeaderKeysAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        (ByteString Key, long ModRevision)? last = null;
        while (true)
        {
            var next = await NextProclamationAsync(last, cancellationToken).ConfigureAwait(false);
            last = (next.Key, next.ModRevision);
            yield return next;
        }
    }

    private async Task<KeyValue> NextProclamationAsync((ByteString Key, long ModRevision)? last, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                var leader = await _session.Kv.RangeAsync(
                    EtcdKeys.FirstCreated(_prefix),
                    deadline: RecipeTimeouts.CallDeadline(),
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                if (leader.Kvs.Count == 1 && (leader.Kvs[0].Key, leader.Kvs[0].ModRevision) != last)
                {
                    return leader.Kvs[0];
                }

                // Nobody leads: the first key put under the prefix is the next leader. Somebody leads
                // and was already seen: wait for its next proclamation or its deletion.
                var (key, rangeEnd) = leader.Kvs.Count == 0
                    ? (EtcdKeys.Bytes(_prefix), EtcdKeys.PrefixEnd(_prefix))
                    : (leader.Kvs[0].Key, ByteString.Empty);
                var change = await KeyQueue.NextEventAsync(_session, key, rangeEnd, leader.Header.Revision + 1, cancellationToken).ConfigureAwait(false);
                if (change is { Type: Event.Types.EventType.Put })
                {
                    return change.Kv;
                }
            }
            catch (RpcException error) when (KeyQueue.IsTransient(error) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(RecipeTimeouts.Retry, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"observing election '{_name}' was cancelled", error, cancellationToken);
            }
        }
    }
}
