using System.Reflection;

namespace Blueprint.Hosting;

/// <summary>The version of this build.</summary>
public static class BlueprintVersion
{
    /// <summary>The informational version, without the source-revision suffix.</summary>
    public static string Current { get; } =
        (typeof(BlueprintVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
            .Split('+')[0];
}
