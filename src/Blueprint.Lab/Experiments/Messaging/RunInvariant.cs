namespace Blueprint.Lab.Experiments.Messaging;

/// <summary>Checks that a measurement ran as designed; a failure aborts the run (it is not a verdict on a claim).</summary>
internal static class RunInvariant
{
    /// <summary>Throws when <paramref name="condition"/> is false.</summary>
    /// <exception cref="InvalidOperationException">The run went wrong; the message says how.</exception>
    public static void Holds(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
