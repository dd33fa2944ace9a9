using System.Runtime.CompilerServices;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Sql;
using Blueprint.Testing;

namespace Blueprint.Chat.Tests;

/// <summary>The modules this assembly's test nodes compose: the one under test and those it requires.</summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = new ModuleCatalog([new KvModule(), new SqlModule(), new ChatModule()]);
}
