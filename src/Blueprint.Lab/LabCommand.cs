using System.CommandLine;
namespace Blueprint.Lab;
/// <summary>stub</summary>
public static class LabCommand
{
    /// <summary>stub</summary>
    public static Command Create() => new("lab", "stub");
}
