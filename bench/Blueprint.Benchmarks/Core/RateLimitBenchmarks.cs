using BenchmarkDotNet.Attributes;

using Blueprint.Core.RateLimiting;

namespace Blueprint.Benchmarks.Core;

/// <summary>One decision of each rate-limit core, time advancing 1 ms per call: all must allocate nothing.</summary>
[MemoryDiagnoser]
public class RateLimitBenchmarks
{
    private const long Step = TimeSpan.TicksPerMillisecond;
    private const long Second = TimeSpan.TicksPerSecond;
    private readonly TokenBucket _tokenBucket = new(100, Second / 100);
    private readonly Gcra _gcra = new(100, Second / 100);
    private readonly LeakyBucketMeter _meter = new(100, Second / 100);
    private readonly LeakyBucketShaper _shaper = new(100, Second / 100);
    private readonly FixedWindow _fixedWindow = new(100, Second);
    private readonly SlidingWindowCounter _counter = new(100, Second);
    private readonly SlidingLog _log = new(100, Second);
    private TokenBucketState _tokenBucketState;
    private GcraState _gcraState;
    private LeakyBucketMeterState _meterState;
    private LeakyBucketShaperState _shaperState;
    private FixedWindowState _fixedWindowState;
    private SlidingWindowCounterState _counterState;
    private SlidingLogState _logState = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _tokenBucketState = _tokenBucket.CreateState(0);
        _gcraState = _gcra.CreateState(0);
        _meterState = _meter.CreateState(0);
        _shaperState = _shaper.CreateState(0);
        _fixedWindowState = _fixedWindow.CreateState(0);
        _counterState = _counter.CreateState(0);
        _logState = _log.CreateState(0);
    }

    [Benchmark]
    public bool TokenBucket() => _tokenBucket.Decide(ref _tokenBucketState, _now += Step, 1).Allowed;

    [Benchmark]
    public bool Gcra() => _gcra.Decide(ref _gcraState, _now += Step, 1).Allowed;

    [Benchmark]
    public bool LeakyBucketMeter() => _meter.Decide(ref _meterState, _now += Step, 1).Allowed;

    [Benchmark]
    public bool LeakyBucketShaper() => _shaper.Decide(ref _shaperState, _now += Step, 1).Allowed;

    [Benchmark]
    public bool FixedWindow() => _fixedWindow.Decide(ref _fixedWindowState, _now += Step, 1).Allowed;

    [Benchmark]
    public bool SlidingWindowCounter() => _counter.Decide(ref _counterState, _now += Step, 1).Allowed;

    [Benchmark]
    public bool SlidingLog() => _log.Decide(ref _logState, _now += Step, 1).Allowed;
}
