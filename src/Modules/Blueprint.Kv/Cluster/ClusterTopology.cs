using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Blueprint.Kv.Cluster;

/// <summary>A RESP server's address in a cluster, <c>host:port</c>.</summary>
/// <param name="Host">The host or IP address.</param>
/// <param name="Port">The port.</param>
public readonly record struct ClusterEndpoint(string Host, int Port)
{
    /// <inheritdoc />
    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>host:port</c>.</summary>
    public static bool TryParse(string text, out ClusterEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(text);
        endpoint = default;
        var colon = text.LastIndexOf(':');
        if (colon <= 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65_535)
        {
            return false;
        }

        endpoint = new ClusterEndpoint(text[..colon].Trim(), port);
        return endpoint.Host.Length > 0;
    }

    /// <summary>Parses a comma-separated list of <c>host:port</c> without repeats.</summary>
    public static bool TryParseList(string text, out IReadOnlyList<ClusterEndpoint> endpoints, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new List<ClusterEndpoint>();
        endpoints = list;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParse(part, out var endpoint))
            {
                error = $"'{part}' is not host:port";
                return false;
            }

            if (list.Contains(endpoint))
            {
                error = $"{part} is listed twice";
                return false;
            }

            list.Add(endpoint);
        }

        error = list.Count == 0 ? "lists no host:port" : null;
        return error is null;
    }
}

/// <summary>A contiguous range of hash slots, both ends included.</summary>
/// <param name="Start">The first slot.</param>
/// <param name="End">The last slot.</param>
public readonly record struct SlotRange(int Start, int End)
{
    /// <summary>Redis Cluster's number of hash slots.</summary>
    public const int SlotCount = 16_384;

    /// <summary>How many slots it holds.</summary>
    public int Count => End - Start + 1;

    /// <summary>Whether it shares a slot with <paramref name="other"/>.</summary>
    public bool Overlaps(SlotRange other) => Start <= other.End && other.Start <= End;

    /// <summary>The <paramref name="index"/>-th (from 0) of <paramref name="count"/> near-equal ranges covering every slot, as redis-cli --cluster create splits them.</summary>
    public static SlotRange Share(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        var start = (int)((long)SlotCount * index / count);
        var end = (int)((long)SlotCount * (index + 1) / count) - 1;
        return new SlotRange(start, end);
    }

    /// <inheritdoc />
    public override string ToString() => Start == End
        ? Start.ToString(CultureInfo.InvariantCulture)
        : $"{Start.ToString(CultureInfo.InvariantCulture)}-{End.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>One line of <c>CLUSTER NODES</c>: a node as one server sees it.</summary>
/// <param name="Id">The node id.</param>
/// <param name="Endpoint">Its client address.</param>
/// <param name="Myself">Whether it is the server that answered.</param>
/// <param name="IsPrimary">Whether it is a primary (flag <c>master</c>).</param>
/// <param name="PrimaryId">The primary it replicates, for a replica.</param>
/// <param name="Failing">Whether the answering server flags it <c>fail</c> or <c>fail?</c>.</param>
/// <param name="Connected">Whether the answering server's link to it is up.</param>
/// <param name="Slots">The slots it serves.</param>
public sealed record KvClusterNode(
    string Id,
    ClusterEndpoint Endpoint,
    bool Myself,
    bool IsPrimary,
    string? PrimaryId,
    bool Failing,
    bool Connected,
    IReadOnlyList<SlotRange> Slots)
{
    /// <summary>Whether the answering server believes it reachable.</summary>
    public bool SeemsUp => Myself || (Connected && !Failing);

    /// <summary>How many slots it serves.</summary>
    public int SlotCount => Slots.Sum(range => range.Count);

    /// <summary>Parses a <c>CLUSTER NODES</c> reply; lines it cannot read are skipped.</summary>
    public static IReadOnlyList<KvClusterNode> ParseNodes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var nodes = new List<KvClusterNode>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryParseLine(line) is { } node)
            {
                nodes.Add(node);
            }
        }

        return nodes;
    }

    private static KvClusterNode? TryParseLine(string line)
    {
        // <id> <ip:port@cport[,hostname]> <flags> <primary|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 8)
        {
            return null;
        }

        var address = fields[1];
        var cut = address.IndexOfAny(['@', ',']);
        if (!ClusterEndpoint.TryParse(cut < 0 ? address : address[..cut], out var endpoint))
        {
            return null;
        }

        var flags = fields[2].Split(',');
        var slots = new List<SlotRange>();
        foreach (var slot in fields.Skip(8).Where(slot => !slot.StartsWith('[')))
        {
            var dash = slot.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0 && int.TryParse(slot, NumberStyles.None, CultureInfo.InvariantCulture, out var single))
            {
                slots.Add(new SlotRange(single, single));
            }
            else if (dash > 0
                && int.TryParse(slot.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && int.TryParse(slot.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var end))
            {
                slots.Add(new SlotRange(start, end));
            }
        }

        return new KvClusterNode(
            fields[0],
            endpoint,
            flags.Contains("myself"),
            flags.Contains("master"),
            fields[3] == "-" ? null : fields[3],
            flags.Contains("fail") || flags.Contains("fail?"),
            fields[7] == "connected",
            slots);
    }
}
