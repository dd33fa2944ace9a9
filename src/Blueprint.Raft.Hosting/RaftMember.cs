namespace Blueprint.Raft.Hosting;

/// <summary>One member of the replicated member table.</summary>
/// <param name="Id">The Raft node id, positive and never reused.</param>
/// <param name="Name">A human name, unique in the cluster.</param>
/// <param name="PeerUrls">Where other members reach this one's Raft port, e.g. <c>http://127.0.0.1:2380</c>.</param>
/// <param name="ClientUrls">Where clients reach this member; empty until the member publishes them.</param>
public sealed record RaftMember(int Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls)
{
    /// <summary>Whether two members carry the same values (records compare lists by reference).</summary>
    /// <param name="other">The other member.</param>
    /// <returns>True when id, name and every URL match in order.</returns>
    public bool SameAs(RaftMember other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Id == other.Id && Name == other.Name && PeerUrls.SequenceEqual(other.PeerUrls) && ClientUrls.SequenceEqual(other.ClientUrls);
    }
}
