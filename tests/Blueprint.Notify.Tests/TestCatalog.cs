using System.Runtime.CompilerServices;
using Blueprint.Hosting;
using Blueprint.Log;
using Blueprint.Testing;

namespace Blueprint.Notify.Tests;

/// <summary>The modules this assembly's test nodes compose: the ones under test and those they require.</summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = new ModuleCatalog([new LogModule(), new NotifyModule()]);
}
