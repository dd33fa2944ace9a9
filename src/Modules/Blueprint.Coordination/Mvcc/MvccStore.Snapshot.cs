using System.Text;
using Blueprint.Coordination.Etcd.Mvccpb;
using Google.Protobuf;

namespace Blueprint.Coordination.Mvcc;

public sealed partial class MvccStore
{
    private const int SnapshotMagic = 0x4D56_4342; // "BCVM" read little-endian: Blueprint Coordination MVCC.
    private const int SnapshotFormatVersion = 1;

    /// <summary>
    /// The whole state — every retained version in revision order, the revision, the compact
    /// revision and the leases — as bytes. Equal states give equal bytes: the encoding has no
    /// timestamps, and versions and leases are written in a fixed order.
    /// </summary>
    /// <returns>The encoded state.</returns>
    public byte[] Snapshot() => CaptureSnapshot()();

    /// <summary>
    /// Captures the state for <see cref="Snapshot"/> in time proportional to the number of retained
    /// versions (a copy of references, no encoding), and returns the encoder, which may run on any
    /// thread while the store goes on: versions are immutable, and the capture holds its own list.
    /// </summary>
    /// <returns>A function giving the bytes <see cref="Snapshot"/> would have given at the capture.</returns>
    public Func<byte[]> CaptureSnapshot()
    {
        KeyVersion[] log;
        long revision, compactRevision;
        (long Id, long TtlSeconds)[] leases;
        _lock.EnterReadLock();
        try
        {
            log = [.. _state.Log];
            revision = _state.Revision;
            compactRevision = _state.CompactRevision;
            leases = [.. _state.Leases.Values.Select(lease => (lease.Id, lease.TtlSeconds))];
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return () => Encode(log, revision, compactRevision, leases);
    }

    private static byte[] Encode(KeyVersion[] log, long revision, long compactRevision, (long Id, long TtlSeconds)[] leases)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(SnapshotMagic);
            writer.Write(SnapshotFormatVersion);
            writer.Write(revision);
            writer.Write(compactRevision);
            writer.Write(log.Length);
            foreach (var version in log)
            {
                writer.Write(version.Revision);
                WriteBytes(writer, version.Owner.Key);
                writer.Write(!version.IsTombstone);
                if (version.Kv is { } kv)
                {
                    writer.Write(kv.CreateRevision);
                    writer.Write(kv.Version);
                    writer.Write(kv.Lease);
                    WriteBytes(writer, kv.Value);
                }
            }

            writer.Write(leases.Length);
            foreach (var (id, ttlSeconds) in leases)
            {
                writer.Write(id);
                writer.Write(ttlSeconds);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Replaces the whole state with a <see cref="Snapshot"/>'s. The bytes are decoded and checked
    /// completely before the swap, so a bad snapshot leaves the store as it was.
    /// </summary>
    /// <param name="snapshot">Bytes from <see cref="Snapshot"/>.</param>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed snapshot.</exception>
    public void Restore(ReadOnlySpan<byte> snapshot)
    {
        State restored;
        try
        {
            restored = Decode(snapshot.ToArray());
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException("mvcc snapshot: truncated", error);
        }

        _lock.EnterWriteLock();
        try
        {
            _state = restored;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private static void WriteBytes(BinaryWriter writer, ByteString bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes.Span);
    }

    private static ByteString ReadBytes(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        Check(length >= 0 && length <= reader.BaseStream.Length - reader.BaseStream.Position, "byte string length");
        return ByteString.CopyFrom(reader.ReadBytes(length));
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidDataException($"mvcc snapshot: bad {what}");
        }
    }

    private static State Decode(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        Check(reader.ReadInt32() == SnapshotMagic, "magic number");
        Check(reader.ReadInt32() == SnapshotFormatVersion, "format version");
        var state = new State { Revision = reader.ReadInt64(), CompactRevision = reader.ReadInt64() };
        Check(state.Revision >= 1 && state.CompactRevision >= 0 && state.CompactRevision <= state.Revision, "revisions");
        var versions = reader.ReadInt32();
        Check(versions >= 0, "version count");
        long previousRevision = 0;
        for (var i = 0; i < versions; i++)
        {
            var revision = reader.ReadInt64();
            Check(revision >= previousRevision && revision >= 1 && revision <= state.Revision, "version revision order");
            previousRevision = revision;
            var key = ReadBytes(reader);
            Check(!key.IsEmpty, "empty key");
            KeyValue? kv = null;
            if (reader.ReadBoolean())
            {
                kv = new KeyValue
                {
                    Key = key,
                    ModRevision = revision,
                    CreateRevision = reader.ReadInt64(),
                    Version = reader.ReadInt64(),
                    Lease = reader.ReadInt64(),
                    Value = ReadBytes(reader),
                };
            }

            if (!state.ByKey.TryGetValue(key, out var history))
            {
                history = new KeyHistory(key);
                state.ByKey.Add(key, history);
                state.Index.Add(history);
            }

            Check(history.Latest is null || history.Latest.Revision < revision, "two versions of a key at one revision");
            var version = new KeyVersion(revision, history, kv);
            history.Versions.Add(version);
            state.Log.Add(version);
        }

        var leases = reader.ReadInt32();
        Check(leases >= 0, "lease count");
        for (var i = 0; i < leases; i++)
        {
            var id = reader.ReadInt64();
            Check(id != 0 && !state.Leases.ContainsKey(id), "lease id");
            state.Leases.Add(id, new LeaseState(id, reader.ReadInt64()));
        }

        Check(reader.BaseStream.Position == reader.BaseStream.Length, "trailing bytes");
        foreach (var history in state.Index)
        {
            if (history.Latest?.Kv is { Lease: not 0 } kv)
            {
                Check(state.Leases.TryGetValue(kv.Lease, out var lease), "lease of a key");
                lease!.Keys.Add(history.Key);
            }
        }

        return state;
    }
}
