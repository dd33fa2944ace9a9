using BenchmarkDotNet.Attributes;

using Blueprint.Core.Hashing;

namespace Blueprint.Benchmarks.Core;

/// <summary>Lookup hot paths of the consistent-hashing schemes: all must allocate nothing.</summary>
[MemoryDiagnoser]
public class HashingBenchmarks
{
    private readonly string[] _replicas = new string[3];
    private readonly string _key = "user:12345";
    private HashRing<string> _ring = null!;
    private RendezvousHash<string> _rendezvous = null!;
    private ulong _hash;

    [Params(10, 100)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string[] names = [.. Enumerable.Range(0, Nodes).Select(i => $"node-{i}")];
        _ring = new HashRing<string>(names, virtualNodesPerWeight: 100);
        _rendezvous = new RendezvousHash<string>(names);
        _hash = StableHash.Hash64("user:12345");
    }

    [Benchmark]
    public ulong StableHashOfKey() => StableHash.Hash64(_key);

    [Benchmark]
    public string RingGetNode() => _ring.GetNode(_key);

    [Benchmark]
    public string RingGetNodeForHash() => _ring.GetNodeForHash(_hash);

    [Benchmark]
    public int RingGetNodesThree() => _ring.GetNodes(_key, _replicas);

    [Benchmark]
    public int JumpHashBucket() => JumpHash.Bucket(_hash, Nodes);

    [Benchmark]
    public string RendezvousGetNode() => _rendezvous.GetNodeForHash(_hash);

    [Benchmark]
    public int RendezvousGetNodesThree() => _rendezvous.GetNodes(_key, _replicas);
}
