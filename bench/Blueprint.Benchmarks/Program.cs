using BenchmarkDotNet.Running;

// In-process hot-path benchmarks. Run: dotnet run -c Release --project bench/Blueprint.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
