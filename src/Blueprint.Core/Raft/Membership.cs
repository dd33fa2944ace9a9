using System.Buffers.Binary;

namespace Blueprint.Core.Raft;

/// <summary>Adds or removes one voter: the single-server change of thesis §4.1.</summary>
/// <param name="Kind">Add or remove.</param>
/// <param name="NodeId">The node concerned.</param>
public readonly record struct ConfigChange(ConfigChangeKind Kind, int NodeId);

/// <summary>The two single-server changes.</summary>
public enum ConfigChangeKind
{
    /// <summary>Add a voter.</summary>
    AddVoter,

    /// <summary>Remove a voter.</summary>
    RemoveVoter,
}

/// <summary>
/// Voter sets as carried by configuration entries. An entry holds the whole new set rather than a delta, so a node
/// that joins with an empty log learns the full configuration from the latest configuration entry alone.
/// </summary>
public static class Membership
{
    /// <summary>Most voters in a configuration; a change that would exceed it is rejected.</summary>
    public const int VotersMax = 64;

    /// <summary>Encodes a voter set as 4-byte little-endian ids.</summary>
    /// <param name="voters">The voters.</param>
    /// <returns>The entry data.</returns>
    public static byte[] Encode(IReadOnlyList<int> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        var bytes = new byte[voters.Count * sizeof(int)];
        for (int i = 0; i < voters.Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * sizeof(int)), voters[i]);
        }

        return bytes;
    }

    /// <summary>Decodes the voter set of a configuration entry.</summary>
    /// <param name="data">The entry data.</param>
    /// <returns>The voters, sorted.</returns>
    public static int[] Decode(ReadOnlySpan<byte> data)
    {
        var voters = new int[data.Length / sizeof(int)];
        for (int i = 0; i < voters.Length; i++)
        {
            voters[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(i * sizeof(int))..]);
        }

        Array.Sort(voters);
        return voters;
    }

    /// <summary>The voter set after <paramref name="change"/>, or null when the change changes nothing or is not allowed.</summary>
    internal static int[]? Apply(IReadOnlyList<int> voters, ConfigChange change)
    {
        bool present = voters.Contains(change.NodeId);
        if (change.NodeId <= 0)
        {
            return null;
        }

        if (change.Kind == ConfigChangeKind.AddVoter)
        {
            return present || voters.Count >= VotersMax ? null : [.. voters.Append(change.NodeId).Order()];
        }

        // Removing the last voter would leave nobody to elect a leader.
        return !present || voters.Count == 1 ? null : [.. voters.Where(v => v != change.NodeId)];
    }
}
