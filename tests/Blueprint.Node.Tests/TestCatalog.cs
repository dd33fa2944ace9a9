using System.Runtime.CompilerServices;
using Blueprint.Testing;

namespace Blueprint.Node.Tests;

/// <summary>The node's tests compose the whole catalog of the build, as the executable does.</summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = BlueprintCatalog.Create();
}
