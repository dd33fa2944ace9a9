using System.Runtime.CompilerServices;
using Blueprint.Caching;
using Blueprint.Hosting;
using Blueprint.Kv;
using Blueprint.Sql;
using Blueprint.Testing;

namespace Blueprint.Cache.Tests;

/// <summary>The modules this assembly's test nodes compose: the kv engine and the SQL database the patterns sit on.</summary>
internal static class TestCatalog
{
    [ModuleInitializer]
    internal static void Register() => TestNode.DefaultCatalog = new ModuleCatalog([new KvModule(), new SqlModule(), new CachingModule()]);
}
