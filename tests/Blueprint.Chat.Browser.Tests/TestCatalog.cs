using System.Runtime.CompilerServices;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Sql;

namespace Blueprint.Chat.Browser.Tests;

/// <summary>The modules this assembly's test nodes compose: the chat and the modules it requires.</summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = new ModuleCatalog([new KvModule(), new SqlModule(), new ChatModule()]);
}
