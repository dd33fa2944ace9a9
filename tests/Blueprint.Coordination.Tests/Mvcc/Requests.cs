using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Google.Protobuf;

namespace Blueprint.Coordination.Tests.Mvcc;

/// <summary>Short builders for the requests the tests apply.</summary>
internal static class Requests
{
    public static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    public static string S(ByteString bytes) => bytes.ToStringUtf8();

    public static InternalRequest Put(string key, string value, long lease = 0, bool prevKv = false) =>
        new() { Put = new PutRequest { Key = B(key), Value = B(value), Lease = lease, PrevKv = prevKv } };

    public static InternalRequest Delete(string key, string rangeEnd = "", bool prevKv = false) =>
        new() { DeleteRange = new DeleteRangeRequest { Key = B(key), RangeEnd = B(rangeEnd), PrevKv = prevKv } };

    public static InternalRequest Compact(long revision) =>
        new() { Compaction = new CompactionRequest { Revision = revision } };

    public static InternalRequest Grant(long id, long ttlSeconds = 60) =>
        new() { LeaseGrant = new LeaseGrantRequest { ID = id, TTL = ttlSeconds } };

    public static InternalRequest Revoke(long id) =>
        new() { LeaseRevoke = new LeaseRevokeRequest { ID = id } };

    public static InternalRequest Txn(TxnRequest txn) => new() { Txn = txn };

    public static RequestOp PutOp(string key, string value) =>
        new() { RequestPut = new PutRequest { Key = B(key), Value = B(value) } };

    public static RequestOp DeleteOp(string key, string rangeEnd = "") =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = B(key), RangeEnd = B(rangeEnd) } };

    public static RequestOp RangeOp(string key, string rangeEnd = "", long revision = 0) =>
        new() { RequestRange = new RangeRequest { Key = B(key), RangeEnd = B(rangeEnd), Revision = revision } };

    public static RequestOp TxnOp(TxnRequest txn) => new() { RequestTxn = txn };

    public static RangeRequest Get(string key, string rangeEnd = "", long revision = 0) =>
        new() { Key = B(key), RangeEnd = B(rangeEnd), Revision = revision };

    /// <summary>Applies and asserts success.</summary>
    public static InternalResponse Ok(this MvccStore store, InternalRequest request)
    {
        var response = store.Apply(request);
        Assert.True(response.ErrorCode == 0, $"unexpected error {response.ErrorCode}: {response.ErrorMessage}");
        return response;
    }

    /// <summary>Keys and values of a range, as "key=value" strings in answer order.</summary>
    public static string[] Pairs(this RangeResponse response) =>
        [.. response.Kvs.Select(kv => $"{S(kv.Key)}={S(kv.Value)}")];
}
