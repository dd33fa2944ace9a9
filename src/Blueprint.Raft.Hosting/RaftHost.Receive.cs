using Blueprint.Raft.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Blueprint.Raft.Hosting;

// The receive path, called from gRPC threads: checks, then one input per message.
public sealed partial class RaftHost
{
    private long _inputsDropped;

    /// <summary>How the receive path judged an envelope or a forwarded call.</summary>
    internal enum ReceiveVerdict
    {
        Accepted,
        ClusterMismatch,
        Removed,
        Stopped,
    }

    /// <summary>Peer messages dropped because the driver's input queue was full.</summary>
    public long InputsDropped => Interlocked.Read(ref _inputsDropped);

    /// <summary>Checks a sender's cluster id and membership; a joining node adopts the id of the first member that reaches it.</summary>
    internal ReceiveVerdict CheckSender(ulong clusterId, int from)
    {
        if (_loop is null || _loop.IsCompleted || IsRemoved)
        {
            return ReceiveVerdict.Stopped;
        }

        var view = Volatile.Read(ref _memberView);
        if (ClusterId == 0 && clusterId != 0 && view.Contains(from))
        {
            AdoptClusterId(clusterId);
        }

        if (clusterId != ClusterId)
        {
            return ReceiveVerdict.ClusterMismatch;
        }

        return view.WasRemoved(from) ? ReceiveVerdict.Removed : ReceiveVerdict.Accepted;
    }

    /// <summary>Hands a peer's message to the driver loop; a full queue drops it, as a lossy network would.</summary>
    internal ReceiveVerdict Receive(RaftEnvelope envelope)
    {
        var verdict = CheckSender(envelope.ClusterId, envelope.From);
        if (verdict != ReceiveVerdict.Accepted)
        {
            ClusterLog.MessageRefused(_logger, Id, envelope.From, verdict);
            return verdict;
        }

        if (EnvelopeCodec.ToMessage(envelope) is not { } message)
        {
            ClusterLog.UnknownMessage(_logger, Id, envelope.Type, envelope.From);
            return verdict;
        }

        if (!_inputs.Writer.TryWrite(new PeerInput(message)))
        {
            Interlocked.Increment(ref _inputsDropped);
        }

        return verdict;
    }
}
