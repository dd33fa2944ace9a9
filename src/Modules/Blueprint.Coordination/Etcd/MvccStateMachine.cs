using Blueprint.Coordination.Mvcc;
using Blueprint.Raft.Hosting;
using Google.Protobuf;

namespace Blueprint.Coordination.Etcd;

/// <summary>The MVCC store as the Raft host's state machine: each committed command is an <see cref="InternalRequest"/>.</summary>
internal sealed class MvccStateMachine(MvccStore store) : IRaftStateMachine
{
    public byte[] Apply(long index, ReadOnlyMemory<byte> command)
    {
        InternalRequest request;
        try
        {
            request = InternalRequest.Parser.ParseFrom(command.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            // Only this module proposes commands, so this is a bug; every replica answers it the same way.
            return new InternalResponse { ErrorCode = (int)Grpc.Core.StatusCode.Internal, ErrorMessage = $"blueprint: entry {index} is not a command: {e.Message}" }.ToByteArray();
        }

        return store.Apply(request).ToByteArray();
    }

    public byte[] TakeSnapshot() => store.Snapshot();

    /// <inheritdoc />
    public Func<byte[]> CaptureSnapshot() => store.CaptureSnapshot();

    /// <summary>Installs a snapshot; the empty image of a new cluster's bootstrap snapshot is the empty store.</summary>
    public void Restore(ReadOnlyMemory<byte> snapshot) => store.Restore(snapshot.IsEmpty ? new MvccStore().Snapshot() : snapshot.Span);
}
