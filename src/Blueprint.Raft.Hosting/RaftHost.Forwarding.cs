using Blueprint.Raft.Hosting.Protocol;
using Google.Protobuf;
using Grpc.Core;

namespace Blueprint.Raft.Hosting;

// Leader handlers and forwarding to the leader over the peer channel.
public sealed partial class RaftHost
{
    internal const string KindPropose = "propose";
    internal const string KindMemberAdd = "member-add";
    internal const string KindMemberRemove = "member-remove";
    internal const string KindTransfer = "transfer";

    /// <summary>Most characters in a handler kind.</summary>
    public const int HandlerKindLengthMax = 64;

    /// <summary>
    /// Registers a handler that runs on the leader (e.g. a lease keep-alive); <see cref="ForwardToLeaderAsync"/> on
    /// any node reaches it. Register the same kinds on every node, before <see cref="StartAsync"/>.
    /// </summary>
    /// <param name="kind">The handler's name, unique on this host.</param>
    /// <param name="handler">Runs on the leader with the payload; its result goes back to the caller.</param>
    public void RegisterLeaderHandler(string kind, Func<ReadOnlyMemory<byte>, CancellationToken, Task<byte[]>> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kind.Length, HandlerKindLengthMax, nameof(kind));
        if (!_handlers.TryAdd(kind, handler))
        {
            throw new ArgumentException($"A leader handler named '{kind}' is already registered.", nameof(kind));
        }
    }

    /// <summary>
    /// Runs the leader handler <paramref name="kind"/>: here when this node leads, else on the leader through the
    /// peer channel (each call bounded by <see cref="RaftHostOptions.ForwardTimeout"/>); with no leader it retries
    /// until <paramref name="ct"/> fires.
    /// </summary>
    /// <param name="kind">A kind given to <see cref="RegisterLeaderHandler"/>.</param>
    /// <param name="payload">The handler's input.</param>
    /// <param name="ct">Gives up waiting.</param>
    /// <returns>The handler's result.</returns>
    /// <exception cref="RaftUnavailableException">No leader ran the handler before <paramref name="ct"/> fired.</exception>
    /// <exception cref="RaftOutcomeUnknownException">The call to the leader failed or timed out after it was sent.</exception>
    public Task<byte[]> ForwardToLeaderAsync(string kind, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        return OnLeaderAsync(kind, payload, ct);
    }

    /// <summary>Serves a forwarded call on this node, which must lead; errors travel back as codes.</summary>
    internal async Task<ForwardResponse> HandleForwardAsync(ForwardRequest request, CancellationToken ct)
    {
        try
        {
            if (!IsLeader)
            {
                throw new RaftNotLeaderException($"Raft host {Id} is not the leader (it knows {LeaderId})");
            }

            if (!_handlers.ContainsKey(request.Kind))
            {
                return Error(ForwardErrorCode.NoHandler, $"No leader handler named '{request.Kind}' is registered on node {Id}.");
            }

            var result = await RunHandlerAsync(request.Kind, request.Payload.Memory, ct).ConfigureAwait(false);
            return new ForwardResponse { Payload = UnsafeByteOperations.UnsafeWrap(result) };
        }
        catch (RaftException exception)
        {
            return Error(exception.Code, exception.Message);
        }
        catch (ArgumentException exception)
        {
            return Error(ForwardErrorCode.InvalidArgument, exception.Message);
        }
        catch (OperationCanceledException exception)
        {
            return Error(ForwardErrorCode.OutcomeUnknown, exception.Message);
        }
#pragma warning disable CA1031 // A handler's own failure goes back to the caller as Internal.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return Error(ForwardErrorCode.Internal, exception.Message);
        }

        static ForwardResponse Error(ForwardErrorCode code, string message) => new() { ErrorCode = (int)code, ErrorMessage = message };
    }

    private Task<byte[]> RunHandlerAsync(string kind, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (!_handlers.TryGetValue(kind, out var handler))
        {
            throw new InvalidOperationException($"No leader handler named '{kind}' is registered on node {Id}.");
        }

        return handler(payload, ct);
    }

    private async Task<byte[]> OnLeaderAsync(string kind, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        Exception? last = null;
        while (true)
        {
            ThrowIfStopped();
            if (ct.IsCancellationRequested)
            {
                throw new RaftUnavailableException($"Raft host {Id}: no leader ran '{kind}' before the caller gave up ({last?.Message ?? "no leader known"})", last);
            }

            var signal = Volatile.Read(ref _statusChanged).Task;
            var status = Volatile.Read(ref _status);
            try
            {
                if (status.IsLeader)
                {
                    return await RunHandlerAsync(kind, payload, ct).ConfigureAwait(false);
                }

                if (status.LeaderId != 0 && _senders.TryGetValue(status.LeaderId, out var leader))
                {
                    return await ForwardAsync(leader, kind, payload, ct).ConfigureAwait(false);
                }

                last = new RaftUnavailableException($"Raft host {Id} knows no leader");
            }
            catch (RaftException exception) when (exception is RaftNotLeaderException or RaftUnavailableException or RaftConfigChangeRefusedException && !IsRemoved)
            {
                last = exception;
            }

            await WaitForRetryAsync(signal, ct).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> ForwardAsync(PeerSender leader, string kind, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var request = new ForwardRequest
        {
            ClusterId = ClusterId,
            From = Id,
            Kind = kind,
            Payload = ByteString.CopyFrom(payload.Span),
        };
        ForwardResponse response;
        try
        {
            response = await leader.ForwardAsync(request, _options.ForwardTimeout, ct).ConfigureAwait(false);
        }
        catch (RpcException exception) when (PeerSender.NeverConnected(exception))
        {
            throw new RaftUnavailableException($"Raft host {Id}: leader {leader.PeerId} at {leader.Url} is unreachable", exception);
        }
        catch (RpcException exception)
        {
            throw new RaftOutcomeUnknownException($"Raft host {Id}: '{kind}' forwarded to leader {leader.PeerId} ended with {exception.StatusCode}: {exception.Status.Detail}", exception);
        }

        string message = $"leader {leader.PeerId}: {response.ErrorMessage}";
        return (ForwardErrorCode)response.ErrorCode switch
        {
            ForwardErrorCode.None => response.Payload.ToByteArray(),
            ForwardErrorCode.NotLeader => throw new RaftNotLeaderException(message),
            ForwardErrorCode.Unavailable => throw new RaftUnavailableException(message),
            ForwardErrorCode.Overloaded => throw new RaftOverloadedException(message),
            ForwardErrorCode.Dropped => throw new RaftProposalDroppedException(message),
            ForwardErrorCode.InvalidArgument => throw new ArgumentException(message),
            ForwardErrorCode.OutcomeUnknown => throw new RaftOutcomeUnknownException(message),
            _ => throw new InvalidOperationException($"'{kind}' failed on {message} (code {response.ErrorCode})"),
        };
    }

    /// <summary>Waits for a leader change or one retry interval, whichever comes first; returns when <paramref name="ct"/> fires too.</summary>
    private async Task WaitForRetryAsync(Task statusChanged, CancellationToken ct)
    {
        var delay = Task.Delay(_options.TickInterval * Math.Max(2, _options.HeartbeatTicks), _time, ct);
        await Task.WhenAny(statusChanged, delay).ConfigureAwait(false);
    }

    private void RegisterBuiltInHandlers()
    {
        _handlers[KindPropose] = (payload, ct) => ProposeLocalAsync(node => node.Propose(payload), ct);
        _handlers[KindMemberAdd] = AddMemberOnLeaderAsync;
        _handlers[KindMemberRemove] = RemoveMemberOnLeaderAsync;
        _handlers[KindTransfer] = TransferOnLeaderAsync;
    }
}
