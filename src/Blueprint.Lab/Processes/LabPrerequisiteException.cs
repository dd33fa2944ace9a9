namespace Blueprint.Lab.Processes;

/// <summary>An experiment cannot run here: a program it drives is missing or did not start. The message is one line.</summary>
public sealed class LabPrerequisiteException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="LabPrerequisiteException"/> class.</summary>
    public LabPrerequisiteException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LabPrerequisiteException"/> class.</summary>
    /// <param name="message">What is missing and how to get it, on one line.</param>
    public LabPrerequisiteException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LabPrerequisiteException"/> class.</summary>
    /// <param name="message">What is missing and how to get it, on one line.</param>
    /// <param name="innerException">The cause.</param>
    public LabPrerequisiteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
