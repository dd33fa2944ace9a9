using Blueprint.Core.Raft;
using Blueprint.Raft.Hosting.Protocol;
using Google.Protobuf;

namespace Blueprint.Raft.Hosting;

/// <summary>Maps <see cref="Message"/> to <see cref="RaftEnvelope"/> and back, field for field. Payloads are wrapped, not copied: both sides are immutable.</summary>
internal static class EnvelopeCodec
{
    public static RaftEnvelope ToEnvelope(Message message, ulong clusterId)
    {
        var envelope = new RaftEnvelope
        {
            ClusterId = clusterId,
            Type = (int)message.Type,
            From = message.From,
            To = message.To,
            Term = message.Term,
            LogTerm = message.LogTerm,
            Index = message.Index,
            Commit = message.Commit,
            Reject = message.Reject,
            RejectHint = message.RejectHint,
            Context = message.Context,
            SentTick = message.SentTick,
        };
        foreach (var entry in message.Entries)
        {
            envelope.Entries.Add(new Protocol.Entry
            {
                Index = entry.Index,
                Term = entry.Term,
                Kind = (int)entry.Kind,
                Data = UnsafeByteOperations.UnsafeWrap(entry.Data),
            });
        }

        if (message.Snapshot is { } snapshot)
        {
            var proto = new Protocol.Snapshot
            {
                Index = snapshot.Metadata.Index,
                Term = snapshot.Metadata.Term,
                Data = UnsafeByteOperations.UnsafeWrap(snapshot.Data),
            };
            proto.Voters.AddRange(snapshot.Metadata.Voters);
            envelope.Snapshot = proto;
        }

        return envelope;
    }

    /// <summary>The message an envelope carries, or null when its type is unknown to this version.</summary>
    public static Message? ToMessage(RaftEnvelope envelope)
    {
        if (!Enum.IsDefined((MessageType)envelope.Type))
        {
            return null;
        }

        var entries = new LogEntry[envelope.Entries.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            var entry = envelope.Entries[i];
            var kind = (EntryKind)entry.Kind;
            if (!Enum.IsDefined(kind))
            {
                return null;
            }

            entries[i] = new LogEntry(entry.Index, entry.Term, kind, entry.Data.Memory);
        }

        Core.Raft.Snapshot? snapshot = null;
        if (envelope.Snapshot is { } proto)
        {
            snapshot = new Core.Raft.Snapshot(new SnapshotMetadata(proto.Index, proto.Term, [.. proto.Voters.Order()]), proto.Data.Memory);
        }

        return new Message
        {
            Type = (MessageType)envelope.Type,
            From = envelope.From,
            To = envelope.To,
            Term = envelope.Term,
            LogTerm = envelope.LogTerm,
            Index = envelope.Index,
            Entries = entries,
            Commit = envelope.Commit,
            Reject = envelope.Reject,
            RejectHint = envelope.RejectHint,
            Snapshot = snapshot,
            Context = envelope.Context,
            SentTick = envelope.SentTick,
        };
    }
}
