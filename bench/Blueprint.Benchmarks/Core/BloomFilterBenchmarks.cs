using BenchmarkDotNet.Attributes;

using Blueprint.Core.Probabilistic;

namespace Blueprint.Benchmarks.Core;

/// <summary>Bloom filter add and contains on a filter sized for a million items at 1%.</summary>
[MemoryDiagnoser]
public class BloomFilterBenchmarks
{
    private const int Items = 1_000_000;
    private readonly BloomFilter _filter = new(Items, 0.01);
    private readonly string[] _keys = [.. Enumerable.Range(0, 1024).Select(i => $"item-{i}")];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Items / 2; i++)
        {
            _ = _filter.Add($"fill-{i}");
        }
    }

    [Benchmark]
    public bool Add() => _filter.Add(_keys[_next++ & 1023]);

    [Benchmark]
    public bool Contains() => _filter.Contains(_keys[_next++ & 1023]);
}
