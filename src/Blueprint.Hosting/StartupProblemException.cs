namespace Blueprint.Hosting;

/// <summary>
/// A problem with the environment that stops the node from starting — a port in use, a data
/// directory it cannot write — worded as one line that says what to change. The executable
/// prints the message and exits with code 2.
/// </summary>
public sealed class StartupProblemException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StartupProblemException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public StartupProblemException()
        : base("the node could not start")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StartupProblemException(string message)
        : base(message)
    {
    }

    /// <summary>The one-line message for a port that another process holds.</summary>
    public static StartupProblemException PortInUse(string what, string address, int port, string flag, Exception? inner = null) =>
        new($"{what} port {port} on {address} is already in use; choose another with {flag} <port>", inner);
}
