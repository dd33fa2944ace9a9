using System.Runtime.CompilerServices;
using Blueprint.Hosting;
using Blueprint.Testing;

namespace Blueprint.Storage.Tests;

/// <summary>The modules this assembly's test nodes compose: the one under test.</summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = new ModuleCatalog([new StorageModule()]);
}
