namespace Blueprint.Coordination.Recipes;

/// <summary>
/// The session's lease expired, was revoked, or could not be kept alive while a lock was being
/// acquired or an election campaigned: the caller's key is gone (or soon will be), so it holds nothing.
/// </summary>
public sealed class SessionLostException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public SessionLostException()
        : base("the etcd session's lease is lost")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public SessionLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public SessionLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
