using Blueprint.Coordination.Etcd.Rpc;

namespace Blueprint.Coordination.Watch;

/// <summary>Builds etcd response headers; the service layer fills in cluster ID, member ID and Raft term.</summary>
public interface IResponseHeaderSource
{
    /// <summary>A header for a response that reflects the store at <paramref name="revision"/>.</summary>
    /// <param name="revision">The store revision the response speaks for.</param>
    /// <returns>A new header; the caller may keep it.</returns>
    ResponseHeader Header(long revision);
}
