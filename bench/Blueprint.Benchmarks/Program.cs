using BenchmarkDotNet.Running;
using Blueprint.Benchmarks.RateLimit;

// In-process hot-path benchmarks. Run: dotnet run -c Release --project bench/Blueprint.Benchmarks -- --filter '*'
// Load mode against a running KV (bench/ratelimit.sh): Blueprint.Benchmarks ratelimit --endpoint 127.0.0.1:PORT [options]
if (args is ["ratelimit", .. var rest])
{
    return await RateLimitLoad.RunAsync(rest);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
