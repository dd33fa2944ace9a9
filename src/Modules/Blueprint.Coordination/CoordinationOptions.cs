using System.ComponentModel.DataAnnotations;

namespace Blueprint.Coordination;

/// <summary>Options of the coordination module (configuration section <c>Coordination</c>).</summary>
public sealed class CoordinationOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Coordination";

    /// <summary>The port of the etcd v3 gRPC API (HTTP/2 without TLS), on the node's bind address. <value>1–65535; default 2379, etcd's client port.</value></summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int EtcdPort { get; set; } = 2379;

    /// <summary>The port Raft peers talk on (HTTP/2 without TLS), on the node's bind address. <value>1–65535; default 2380, etcd's peer port.</value></summary>
    [Range(1, 65_535, ErrorMessage = "must be a port from 1 to 65535")]
    public int RaftPort { get; set; } = 2380;

    /// <summary>This member's name in <see cref="InitialCluster"/>. <value>Default <c>n1</c>.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name this member, for example n1")]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", ErrorMessage = "must be 1–63 letters, digits, '-', '_' or '.', starting with a letter or digit")]
    public string NodeId { get; set; } = "n1";

    /// <summary>
    /// Every member at bootstrap as <c>name=peerURL</c> pairs separated by commas, as etcd's
    /// <c>--initial-cluster</c>, for example <c>n1=http://127.0.0.1:2380,n2=http://127.0.0.1:12380</c>.
    /// Every member must be given the same list. Members get Raft ids 1..N in the order of their names.
    /// <value>Default empty: a one-member cluster of this node on <see cref="RaftPort"/>.</value>
    /// </summary>
    public string? InitialCluster { get; set; }

    /// <summary><c>new</c> to bootstrap the cluster of <see cref="InitialCluster"/>; <c>existing</c> to join a running cluster this member was added to (<c>etcdctl member add</c>). <value>Default <c>new</c>.</value></summary>
    [RegularExpression("^(new|existing)$", ErrorMessage = "must be new or existing")]
    public string InitialClusterState { get; set; } = "new";

    /// <summary>
    /// Where this member dials some peers, as <c>name=http://host:port</c> pairs, when that differs from the peer URL in
    /// <see cref="InitialCluster"/> (a proxy in between, as the fault tests put there). Only dialing changes: the
    /// cluster's identity and member list keep the advertised URLs. <value>Default empty.</value>
    /// </summary>
    public string? PeerDialUrls { get; set; }

    /// <summary>The dial overrides of <see cref="PeerDialUrls"/> by member name.</summary>
    /// <exception cref="FormatException">The list is malformed.</exception>
    public IReadOnlyDictionary<string, string> ParsePeerDialUrls()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in (PeerDialUrls ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !Uri.TryCreate(part[(equals + 1)..], UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new FormatException($"'{part}' is not name=http://host:port");
            }

            result[part[..equals]] = uri.GetLeftPart(UriPartial.Authority);
        }

        return result;
    }

    /// <summary>The client URL this member publishes in the member list. <value>Default <c>http://&lt;bind&gt;:&lt;EtcdPort&gt;</c>.</value></summary>
    public string? AdvertiseClientUrl { get; set; }

    /// <summary>How long one Raft tick lasts; heartbeats go every tick. <value>10–10000 ms; default 100, etcd's heartbeat interval.</value></summary>
    [Range(10, 10_000, ErrorMessage = "must be from 10 to 10000 milliseconds")]
    public int TickMs { get; set; } = 100;

    /// <summary>The election timeout in ticks. <value>3–1000; default 10 (1 s, etcd's default).</value></summary>
    [Range(3, 1_000, ErrorMessage = "must be from 3 to 1000 ticks")]
    public int ElectionTicks { get; set; } = 10;

    /// <summary>A snapshot is taken (and the log compacted) after this many applied entries. <value>100–10000000; default 100000, etcd's snapshot count.</value></summary>
    [Range(100, 10_000_000, ErrorMessage = "must be from 100 to 10000000")]
    public int SnapshotEveryEntries { get; set; } = 100_000;

    /// <summary>Whether the WAL fsyncs. Off only to compare with etcd's <c>--unsafe-no-fsync</c>: a crash may then lose acknowledged writes. <value>Default true.</value></summary>
    public bool Fsync { get; set; } = true;

    /// <summary>How long a client request may wait for Raft before it fails. <value>100–60000 ms; default 5000.</value></summary>
    [Range(100, 60_000, ErrorMessage = "must be from 100 to 60000 milliseconds")]
    public int RequestTimeoutMs { get; set; } = 5_000;

    /// <summary>The largest gRPC request the etcd API accepts (etcd's <c>--max-request-bytes</c>). <value>1 KiB–64 MiB; default 1.5 MiB.</value></summary>
    [Range(1024, RequestBytesMaxAllowed, ErrorMessage = "must be from 1024 to 67108864 bytes")]
    public int RequestBytesMax { get; set; } = 1536 * 1024;

    /// <summary>The largest <see cref="RequestBytesMax"/> allowed, and the limit every replica's store applies.</summary>
    public const int RequestBytesMaxAllowed = 64 * 1024 * 1024;

    /// <summary>
    /// The id <c>etcdctl member add</c> printed for this member (hexadecimal, as printed), needed with
    /// <see cref="InitialClusterState"/> <c>existing</c>: a joining member must use the id the cluster gave it.
    /// <value>Default empty.</value>
    /// </summary>
    public string? JoinMemberId { get; set; }

    /// <summary>The parsed <see cref="JoinMemberId"/>, or 0.</summary>
    public int MemberId => int.TryParse(JoinMemberId, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0 ? id : 0;

    /// <summary>The shortest lease TTL granted; shorter requests are raised to it, as etcd does. <value>1–3600 s; default 2 (1.5 election timeouts, rounded up).</value></summary>
    [Range(1, 3_600, ErrorMessage = "must be from 1 to 3600 seconds")]
    public int LeaseMinTtlSeconds { get; set; } = 2;

    /// <summary>The longest lease TTL granted (etcd's MaxLeaseTTL). <value>Default 9000000000 s.</value></summary>
    [Range(1L, 9_000_000_000L, ErrorMessage = "must be from 1 to 9000000000 seconds")]
    public long LeaseMaxTtlSeconds { get; set; } = 9_000_000_000L;

    /// <summary>How many watch and keep-alive streams one node serves at once. <value>1–100000; default 10000.</value></summary>
    [Range(1, 100_000, ErrorMessage = "must be from 1 to 100000")]
    public int StreamsMax { get; set; } = 10_000;

    /// <summary>The members of <see cref="InitialCluster"/> with their Raft ids, or the problem with it.</summary>
    /// <param name="bindHost">The host this node binds, used for the default one-member cluster.</param>
    /// <returns>The members sorted by name, ids from 1.</returns>
    /// <exception cref="FormatException">The list is malformed; the message names the bad part.</exception>
    public IReadOnlyList<InitialMember> ParseInitialCluster(string bindHost)
    {
        if (string.IsNullOrWhiteSpace(InitialCluster))
        {
            return [new InitialMember(1, NodeId, $"http://{bindHost}:{RaftPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}")];
        }

        var members = new List<(string Name, string Url)>();
        foreach (var part in InitialCluster.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == part.Length - 1)
            {
                throw new FormatException($"'{part}' is not name=http://host:port");
            }

            var name = part[..equals];
            var url = part[(equals + 1)..];
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.Port <= 0 || uri.AbsolutePath != "/")
            {
                throw new FormatException($"member {name}: '{url}' is not an http://host:port peer URL (TLS between peers is not supported)");
            }

            if (members.Any(member => member.Name == name))
            {
                throw new FormatException($"member {name} is listed twice");
            }

            members.Add((name, uri.GetLeftPart(UriPartial.Authority)));
        }

        if (members.Count is 0 or > 7)
        {
            throw new FormatException($"{members.Count} members: a cluster has 1 to 7");
        }

        if (members.All(member => member.Name != NodeId))
        {
            throw new FormatException($"this member's name {NodeId} is not in the list; set --node-id to one of {string.Join(", ", members.Select(member => member.Name))}");
        }

        return [.. members.OrderBy(member => member.Name, StringComparer.Ordinal).Select((member, i) => new InitialMember(i + 1, member.Name, member.Url))];
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EtcdPort == RaftPort)
        {
            yield return new ValidationResult($"EtcdPort and RaftPort are both {EtcdPort}: they must differ", [nameof(EtcdPort), nameof(RaftPort)]);
        }

        string? problem = null;
        try
        {
            ParseInitialCluster("127.0.0.1");
        }
        catch (FormatException e)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            yield return new ValidationResult($"InitialCluster: {problem}", [nameof(InitialCluster)]);
        }

        problem = null;
        try
        {
            ParsePeerDialUrls();
        }
        catch (FormatException e)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            yield return new ValidationResult($"PeerDialUrls: {problem}", [nameof(PeerDialUrls)]);
        }

        if (InitialClusterState == "existing" && MemberId == 0)
        {
            yield return new ValidationResult($"JoinMemberId '{JoinMemberId}': joining a running cluster (InitialClusterState = existing) needs the member id that member add printed, in hexadecimal", [nameof(JoinMemberId)]);
        }

        if (AdvertiseClientUrl is { Length: > 0 } advertise && !Uri.TryCreate(advertise, UriKind.Absolute, out _))
        {
            yield return new ValidationResult($"AdvertiseClientUrl '{advertise}' is not an absolute URL", [nameof(AdvertiseClientUrl)]);
        }
    }
}

/// <summary>A member of the initial cluster.</summary>
/// <param name="Id">Its Raft id, from 1 in the order of the names.</param>
/// <param name="Name">Its name.</param>
/// <param name="PeerUrl">Where its Raft port listens.</param>
public sealed record InitialMember(int Id, string Name, string PeerUrl);
