using System.Text;

namespace Blueprint.Raft.Hosting;

/// <summary>
/// The member table replicated through the log: who is in the cluster, where to reach them, and the next id to hand
/// out. Updates are deltas that apply idempotently (upsert, delete, set URLs), so a joining node that starts from the
/// current member list and replays the log from the beginning ends with the same table as everyone else. Touched only
/// by the driver loop.
/// </summary>
internal sealed class MemberTable
{
    /// <summary>Most members in the table, as many as the core allows voters.</summary>
    public const int MembersMax = Blueprint.Core.Raft.Membership.VotersMax;

    /// <summary>Most URLs per member and list.</summary>
    public const int UrlsPerMemberMax = 16;

    private const byte OpAdd = 1;
    private const byte OpRemove = 2;
    private const byte OpPublish = 3;
    private const byte OpNothing = 4;
    private const byte OpPublishNamed = 5;
    private const byte FormatVersion = 1;

    private readonly SortedDictionary<int, RaftMember> _members = [];

    public MemberTable(ulong clusterId, IEnumerable<RaftMember> members)
    {
        ClusterId = clusterId;
        foreach (var member in members)
        {
            Upsert(member);
        }
    }

    /// <summary>The cluster's id; 0 on a joining node until it hears from the cluster.</summary>
    public ulong ClusterId { get; set; }

    /// <summary>One past the highest id ever in the table, removed ones included: ids are never reused.</summary>
    public int NextId { get; private set; } = 1;

    public IReadOnlyList<RaftMember> Members => [.. _members.Values];

    public bool Contains(int id) => _members.ContainsKey(id);

    public RaftMember? Find(int id) => _members.GetValueOrDefault(id);

    /// <summary>A stable 64-bit FNV-1a hash of the members sorted by name, with their peer URLs; never 0.</summary>
    public static ulong ComputeClusterId(IEnumerable<RaftMember> members)
    {
        var text = new StringBuilder();
        foreach (var member in members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            text.Append(member.Name).Append('\n').AppendJoin(',', member.PeerUrls.Order(StringComparer.Ordinal)).Append('\n');
        }

        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text.ToString()))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash == 0 ? 1 : hash;
    }

    public static byte[] EncodeAdd(RaftMember member) => Encode(OpAdd, writer => WriteMember(writer, member));

    public static byte[] EncodeRemove(int id) => Encode(OpRemove, writer => writer.Write(id));

    public static byte[] EncodePublish(int id, string name, IReadOnlyList<string> clientUrls) =>
        Encode(OpPublishNamed, writer =>
        {
            writer.Write(id);
            writer.Write(name);
            WriteUrls(writer, clientUrls);
        });

    /// <summary>An update that changes nothing: a barrier that commits once everything before it has.</summary>
    public static byte[] EncodeNothing() => [OpNothing];

    /// <summary>Applies one update from the log; returns the member concerned, encoded as the proposer's result.</summary>
    public byte[] Apply(ReadOnlySpan<byte> update)
    {
        using var reader = new BinaryReader(new MemoryStream(update.ToArray()), Encoding.UTF8);
        byte op = reader.ReadByte();
        switch (op)
        {
            case OpAdd:
                var member = ReadMember(reader);
                Upsert(member);
                return EncodeMember(member);
            case OpRemove:
                int id = reader.ReadInt32();
                _members.Remove(id);
                NextId = Math.Max(NextId, id + 1);
                return [];
            case OpPublish:
                int publisher = reader.ReadInt32();
                var urls = ReadUrls(reader);
                if (_members.TryGetValue(publisher, out var existing))
                {
                    _members[publisher] = existing with { ClientUrls = urls };
                }

                return [];
            case OpPublishNamed:
                // A member added at run time gets its name when it first starts, as in etcd.
                int named = reader.ReadInt32();
                var name = reader.ReadString();
                var namedUrls = ReadUrls(reader);
                if (_members.TryGetValue(named, out var added))
                {
                    _members[named] = added with { Name = name, ClientUrls = namedUrls };
                }

                return [];
            case OpNothing:
                return [];
            default:
                throw new InvalidDataException($"Unknown member table update {op}.");
        }
    }

    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FormatVersion);
            writer.Write(ClusterId);
            writer.Write(NextId);
            writer.Write(_members.Count);
            foreach (var member in _members.Values)
            {
                WriteMember(writer, member);
            }
        }

        return stream.ToArray();
    }

    public static MemberTable Decode(ReadOnlySpan<byte> data)
    {
        using var reader = new BinaryReader(new MemoryStream(data.ToArray()), Encoding.UTF8);
        byte version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Member table format {version} is not {FormatVersion}.");
        }

        ulong clusterId = reader.ReadUInt64();
        int nextId = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (count < 0 || count > MembersMax)
        {
            throw new InvalidDataException($"Member table holds {count} members; at most {MembersMax} are allowed.");
        }

        var members = new List<RaftMember>(count);
        for (int i = 0; i < count; i++)
        {
            members.Add(ReadMember(reader));
        }

        var table = new MemberTable(clusterId, members);
        table.NextId = Math.Max(table.NextId, nextId);
        return table;
    }

    public static byte[] EncodeMember(RaftMember member) => Encode(OpAdd, writer => WriteMember(writer, member))[1..];

    public static RaftMember DecodeMember(ReadOnlySpan<byte> data)
    {
        using var reader = new BinaryReader(new MemoryStream(data.ToArray()), Encoding.UTF8);
        return ReadMember(reader);
    }

    private void Upsert(RaftMember member)
    {
        _members[member.Id] = member;
        NextId = Math.Max(NextId, member.Id + 1);
    }

    private static byte[] Encode(byte op, Action<BinaryWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(op);
            body(writer);
        }

        return stream.ToArray();
    }

    private static void WriteMember(BinaryWriter writer, RaftMember member)
    {
        writer.Write(member.Id);
        writer.Write(member.Name);
        WriteUrls(writer, member.PeerUrls);
        WriteUrls(writer, member.ClientUrls);
    }

    private static RaftMember ReadMember(BinaryReader reader)
    {
        int id = reader.ReadInt32();
        string name = reader.ReadString();
        var peerUrls = ReadUrls(reader);
        var clientUrls = ReadUrls(reader);
        return new RaftMember(id, name, peerUrls, clientUrls);
    }

    private static void WriteUrls(BinaryWriter writer, IReadOnlyList<string> urls)
    {
        writer.Write(urls.Count);
        foreach (var url in urls)
        {
            writer.Write(url);
        }
    }

    private static string[] ReadUrls(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > UrlsPerMemberMax)
        {
            throw new InvalidDataException($"A member lists {count} URLs; at most {UrlsPerMemberMax} are allowed.");
        }

        var urls = new string[count];
        for (int i = 0; i < count; i++)
        {
            urls[i] = reader.ReadString();
        }

        return urls;
    }
}
