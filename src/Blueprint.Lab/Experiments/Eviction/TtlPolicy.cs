namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// Exact expiry-only cache, the subject of the eviction experiment, not a production cache: a key admitted at time t
/// is a hit for accesses before t + TTL and gone from then on, however often it was read (no sliding expiry). There
/// is no size bound, as with keys that carry a TTL in a store with no memory limit, so its memory is whatever the
/// TTL makes it; <see cref="MeanResident"/> and <see cref="PeakResident"/> measure it.
/// </summary>
internal sealed class TtlPolicy : IEvictionPolicy
{
    private readonly long _ttl;
    private readonly long _measureResidentFrom;
    private readonly Dictionary<int, long> _admittedAt = [];

    /// <summary>Keys in admission order, which is expiry order since every key lives for the same TTL.</summary>
    private readonly Queue<(int Key, long AdmittedAt)> _expiryOrder = new();
    private long _residentSum;
    private long _residentSamples;

    /// <summary>Creates an expiry-only cache.</summary>
    /// <param name="ttl">How long a key lives after admission, in accesses (the logical clock), at least 1.</param>
    /// <param name="measureResidentFrom">The first access whose resident count enters <see cref="MeanResident"/>; later accesses skip the cold start.</param>
    public TtlPolicy(long ttl, long measureResidentFrom = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, 1);
        _ttl = ttl;
        _measureResidentFrom = measureResidentFrom;
    }

    /// <inheritdoc/>
    public string Name => "TTL";

    /// <summary>Gets the mean number of cached keys over the measured accesses.</summary>
    public double MeanResident => _residentSamples == 0 ? 0 : _residentSum / (double)_residentSamples;

    /// <summary>Gets the most keys cached at once.</summary>
    public int PeakResident { get; private set; }

    /// <inheritdoc/>
    public bool Access(int key, long now)
    {
        while (_expiryOrder.TryPeek(out (int Key, long AdmittedAt) oldest) && now - oldest.AdmittedAt >= _ttl)
        {
            _ = _expiryOrder.Dequeue();
            _ = _admittedAt.Remove(oldest.Key);
        }

        bool hit = _admittedAt.ContainsKey(key);
        if (!hit)
        {
            _admittedAt.Add(key, now);
            _expiryOrder.Enqueue((key, now));
        }

        PeakResident = Math.Max(PeakResident, _admittedAt.Count);
        if (now >= _measureResidentFrom)
        {
            _residentSum += _admittedAt.Count;
            _residentSamples++;
        }

        return hit;
    }
}
