namespace Blueprint.Coordination.Recipes;

/// <summary>
/// A leadership handle was used after its key stopped being the one it created: the leader resigned,
/// its lease ended, or someone deleted the key. Nothing was written.
/// </summary>
public sealed class NotLeaderException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public NotLeaderException()
        : base("this session no longer leads the election")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public NotLeaderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public NotLeaderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
