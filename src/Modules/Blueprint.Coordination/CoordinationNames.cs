namespace Blueprint.Coordination;

/// <summary>Names shared by the coordination module.</summary>
public static class CoordinationNames
{
    /// <summary>The module name used by <c>--modules</c>.</summary>
    public const string Module = "coordination";
}
