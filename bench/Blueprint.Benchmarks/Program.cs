using BenchmarkDotNet.Running;
using Blueprint.Benchmarks.Floor;
using Blueprint.Benchmarks.RateLimit;

// In-process hot-path benchmarks. Run: dotnet run -c Release --project bench/Blueprint.Benchmarks -- --filter '*'
// Load mode against a running KV (bench/ratelimit.sh): Blueprint.Benchmarks ratelimit --endpoint 127.0.0.1:PORT [options]
if (args is ["ratelimit", .. var rest])
{
    return await RateLimitLoad.RunAsync(rest);
}

// The .NET floor for a redirect (bench/shortener.sh): Blueprint.Benchmarks floor --port N
if (args is ["floor", .. var floorArgs])
{
    return await FloorServer.RunAsync(floorArgs);
}

// The backend behind the proxies (bench/gateway.sh): Blueprint.Benchmarks backend --port N
if (args is ["backend", .. var backendArgs])
{
    return await BackendServer.RunAsync(backendArgs);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
