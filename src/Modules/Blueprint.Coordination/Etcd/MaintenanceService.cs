using Blueprint.Coordination.Etcd.Rpc;
using Grpc.Core;

namespace Blueprint.Coordination.Etcd;

/// <summary>etcd's Maintenance service: status (what <c>etcdctl endpoint status</c> shows), alarms (none are raised), leader moves, snapshots.</summary>
internal sealed class MaintenanceService(EtcdServer server) : Maintenance.MaintenanceBase
{
    /// <summary>The etcd API version this member speaks; clients compare it, so it is etcd's numbering.</summary>
    public const string ApiVersion = "3.4.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var host = server.Host;
        var size = server.DatabaseBytes();
        return Task.FromResult(new StatusResponse
        {
            Header = server.Header(server.Store.Revision),
            Version = ApiVersion,
            DbSize = size,
            DbSizeInUse = size,
            Leader = (ulong)host.LeaderId,
            RaftIndex = (ulong)host.CommitIndex,
            RaftTerm = (ulong)host.Term,
            RaftAppliedIndex = (ulong)host.AppliedIndex,
        });
    }

    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context) =>
        Task.FromResult(new AlarmResponse { Header = server.Header(server.Store.Revision) });

    public override async Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context)
    {
        if (!server.Host.IsLeader)
        {
            throw EtcdErrors.NotLeader();
        }

        if (request.TargetID == 0 || request.TargetID > int.MaxValue || server.Host.Members.All(member => (ulong)member.Id != request.TargetID))
        {
            throw EtcdErrors.MemberNotFound();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(server.Options.RequestTimeoutMs));
        try
        {
            await server.Host.TransferLeadershipAsync((int)request.TargetID, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw EtcdErrors.Timeout();
        }

        return new MoveLeaderResponse { Header = server.Header(server.Store.Revision) };
    }

    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context) =>
        // Compaction frees superseded versions at once; there is no file to defragment.
        Task.FromResult(new DefragmentResponse { Header = server.Header(server.Store.Revision) });

    public override Task<HashResponse> Hash(HashRequest request, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("Hash (the bolt database hash)");

    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context) =>
        throw EtcdErrors.Unsupported("HashKV");

    /// <summary>
    /// Streams this member's state as etcd does a snapshot: chunks of 32 KiB counting down <c>remaining_bytes</c>, then one
    /// message of the SHA-256 of everything sent. The bytes are a <see cref="SnapshotFile"/> (the MVCC store's snapshot,
    /// framed and padded so that <c>etcdctl snapshot save</c> finds its checksum), not a bolt database: etcdctl saves it,
    /// but <c>etcdctl snapshot status</c> and <c>restore</c> cannot read it.
    /// </summary>
    public override async Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        var file = SnapshotFile.Frame(server.Store.CaptureSnapshot()());
        var body = file.AsMemory(0, file.Length - SnapshotFile.ChecksumBytes);
        var sent = 0;
        while (sent < body.Length)
        {
            var chunk = body.Slice(sent, Math.Min(SnapshotFile.ChunkBytes, body.Length - sent));
            sent += chunk.Length;
            await responseStream.WriteAsync(new SnapshotResponse
            {
                Header = sent == chunk.Length ? server.Header(server.Store.Revision) : null,
                RemainingBytes = (ulong)(body.Length - sent),
                Blob = Google.Protobuf.ByteString.CopyFrom(chunk.Span),
            }, context.CancellationToken).ConfigureAwait(false);
        }

        await responseStream.WriteAsync(new SnapshotResponse
        {
            RemainingBytes = 0,
            Blob = Google.Protobuf.ByteString.CopyFrom(file.AsSpan(body.Length)),
        }, context.CancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// The file a <see cref="MaintenanceService.Snapshot"/> stream makes: a 16-byte header (<c>BPCOORDSNAP</c>, NUL, a
/// format version), the length of the MVCC snapshot (8 bytes, little-endian), the snapshot
/// (<see cref="Mvcc.MvccStore.Snapshot"/>), zeros up to a multiple of 512 bytes, and the SHA-256 of all that. etcdctl
/// checks that a saved snapshot is 32 bytes past a multiple of 512 (its sign of the trailing checksum), as a bolt
/// database always is.
/// </summary>
internal static class SnapshotFile
{
    /// <summary>The SHA-256 at the end.</summary>
    public const int ChecksumBytes = 32;

    /// <summary>The size of the stream's messages, as etcd sends them.</summary>
    public const int ChunkBytes = 32 * 1024;

    private const int Alignment = 512;
    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "BPCOORDSNAP\0"u8.ToArray();
    private static readonly int HeaderBytes = Magic.Length + sizeof(int) + sizeof(long);

    /// <summary>Frames an MVCC snapshot as the file the stream carries.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> mvccSnapshot)
    {
        var unpadded = HeaderBytes + mvccSnapshot.Length;
        var padded = (unpadded + Alignment - 1) / Alignment * Alignment;
        var file = new byte[padded + ChecksumBytes];
        Magic.CopyTo(file, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(Magic.Length), FormatVersion);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(Magic.Length + sizeof(int)), mvccSnapshot.Length);
        mvccSnapshot.CopyTo(file.AsSpan(HeaderBytes));
        System.Security.Cryptography.SHA256.HashData(file.AsSpan(0, padded), file.AsSpan(padded));
        return file;
    }

    /// <summary>The MVCC snapshot inside a saved file (for <see cref="Mvcc.MvccStore.Restore"/>), after checking its header, length and SHA-256.</summary>
    /// <exception cref="InvalidDataException">The file is not such a snapshot, or is damaged.</exception>
    public static byte[] Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < HeaderBytes + ChecksumBytes || file.Length % Alignment != ChecksumBytes || !file.StartsWith(Magic))
        {
            throw new InvalidDataException("not a Blueprint coordination snapshot (a bolt database from etcd is not one)");
        }

        var body = file[..^ChecksumBytes];
        Span<byte> hash = stackalloc byte[ChecksumBytes];
        System.Security.Cryptography.SHA256.HashData(body, hash);
        if (!hash.SequenceEqual(file[^ChecksumBytes..]))
        {
            throw new InvalidDataException("the snapshot's SHA-256 does not match its bytes");
        }

        var version = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(file[Magic.Length..]);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(file[(Magic.Length + sizeof(int))..]);
        if (version != FormatVersion || length < 0 || length > body.Length - HeaderBytes)
        {
            throw new InvalidDataException($"snapshot format {version} with {length} bytes is not one this build reads");
        }

        return body.Slice(HeaderBytes, (int)length).ToArray();
    }
}
