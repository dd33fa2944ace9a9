using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Blueprint.Coordination.Watch;
using Blueprint.Raft.Hosting;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Blueprint.Coordination.Etcd;

/// <summary>
/// What every etcd service shares: proposing a command through Raft and turning its outcome into etcd's reply or
/// error, the linearizable read barrier, and the response header (cluster id, member id, Raft term, revision).
/// </summary>
internal sealed class EtcdServer : IResponseHeaderSource
{
    private readonly RaftHost _host;
    private static readonly TimeSpan SizeRefresh = TimeSpan.FromSeconds(10);
    private readonly TimeSpan _timeout;
    private long _size;
    private long _sizeAt;

    public EtcdServer(RaftHost host, MvccStore store, IOptions<CoordinationOptions> options)
    {
        _host = host;
        Store = store;
        Options = options.Value;
        _timeout = TimeSpan.FromMilliseconds(Options.RequestTimeoutMs);
    }

    public MvccStore Store { get; }

    public RaftHost Host => _host;

    public CoordinationOptions Options { get; }

    /// <inheritdoc />
    public ResponseHeader Header(long revision) => new()
    {
        ClusterId = _host.ClusterId,
        MemberId = (ulong)_host.Id,
        RaftTerm = (ulong)_host.Term,
        Revision = revision,
    };

    /// <summary>Fills the member's part of a header the store filled with the revision.</summary>
    public ResponseHeader Fill(ResponseHeader? header)
    {
        header ??= new ResponseHeader { Revision = Store.Revision };
        header.ClusterId = _host.ClusterId;
        header.MemberId = (ulong)_host.Id;
        header.RaftTerm = (ulong)_host.Term;
        return header;
    }

    /// <summary>Replicates <paramref name="request"/>, waits until this member applied it, and returns its result or throws etcd's error.</summary>
    public async Task<InternalResponse> ProposeAsync(InternalRequest request, CancellationToken cancellationToken)
    {
        if (request.CalculateSize() > Options.RequestBytesMax)
        {
            throw EtcdErrors.TooLarge();
        }

        var command = request.ToByteArray();
        byte[] result = await WithTimeoutAsync(token => _host.ProposeAsync(command, token), cancellationToken).ConfigureAwait(false);
        var response = InternalResponse.Parser.ParseFrom(result);
        if (response.ErrorCode != 0)
        {
            throw new RpcException(new Status((StatusCode)response.ErrorCode, response.ErrorMessage));
        }

        return response;
    }

    /// <summary>The linearizable read barrier (Raft ReadIndex): returns once this member has applied everything committed when the read began.</summary>
    public Task ReadBarrierAsync(CancellationToken cancellationToken) =>
        WithTimeoutAsync(async token =>
        {
            await _host.ReadIndexAsync(token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Runs a leader-side operation (a lease keep-alive, a lease's remaining time) on the leader.</summary>
    public Task<byte[]> ForwardToLeaderAsync(string kind, byte[] payload, CancellationToken cancellationToken) =>
        WithTimeoutAsync(token => _host.ForwardToLeaderAsync(kind, payload, token), cancellationToken);

    /// <summary>The size of the store's image (its snapshot), recomputed at most every <see cref="SizeRefresh"/>.</summary>
    public long DatabaseBytes()
    {
        var now = Environment.TickCount64;
        if (_sizeAt == 0 || now - _sizeAt > (long)SizeRefresh.TotalMilliseconds)
        {
            _size = Store.Snapshot().Length;
            _sizeAt = now;
        }

        return _size;
    }

    /// <summary>Runs a store read, turning its errors into etcd's.</summary>
    public static T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (MvccException e)
        {
            throw new RpcException(new Status(e.Code, e.Message));
        }
    }

    private async Task<T> WithTimeoutAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            return await operation(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw _host.LeaderId == 0 ? EtcdErrors.NoLeader() : EtcdErrors.Timeout();
        }
        catch (RaftException e)
        {
            throw EtcdErrors.From(e);
        }
    }
}
