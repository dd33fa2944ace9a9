namespace Blueprint.Core.Probabilistic;

/// <summary>
/// A scalable Bloom filter: Almeida, Baquero, Preguiça &amp; Hutchison, "Scalable Bloom Filters" (2007).
/// When a stage fills to its capacity a new stage is added, <see cref="GrowthFactor"/> times larger and with its
/// false-positive rate multiplied by <see cref="TighteningRatio"/> <c>r</c>. Stage <c>i</c> targets
/// <c>p₀ · rⁱ</c> with <c>p₀ = P · (1 − r)</c>, so the compound rate stays below <c>Σ p₀ rⁱ = P</c> however many items arrive.
/// </summary>
/// <remarks>Single-threaded: callers synchronize.</remarks>
public sealed class ScalableBloomFilter
{
    private readonly List<Stage> _stages = [];

    /// <summary>Creates a filter whose first stage holds <paramref name="initialCapacity"/> items.</summary>
    /// <param name="initialCapacity">Items the first stage holds before the filter grows.</param>
    /// <param name="falsePositiveRate">The overall false-positive bound <c>P</c>, in (0, 1).</param>
    /// <param name="growthFactor">Capacity multiplier per stage, at least 1 (the paper suggests 2 or 4).</param>
    /// <param name="tighteningRatio">Rate multiplier per stage <c>r</c>, in (0, 1) (the paper suggests 0.8–0.9).</param>
    public ScalableBloomFilter(long initialCapacity, double falsePositiveRate, int growthFactor = 2, double tighteningRatio = 0.85)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialCapacity, 1);
        BloomMath.ThrowIfNotProbability(falsePositiveRate);
        ArgumentOutOfRangeException.ThrowIfLessThan(growthFactor, 1);
        BloomMath.ThrowIfNotProbability(tighteningRatio, nameof(tighteningRatio));
        InitialCapacity = initialCapacity;
        FalsePositiveRate = falsePositiveRate;
        GrowthFactor = growthFactor;
        TighteningRatio = tighteningRatio;
        AddStage();
    }

    /// <summary>Gets the first stage's capacity.</summary>
    public long InitialCapacity { get; }

    /// <summary>Gets the overall false-positive bound <c>P</c>.</summary>
    public double FalsePositiveRate { get; }

    /// <summary>Gets the capacity multiplier per stage.</summary>
    public int GrowthFactor { get; }

    /// <summary>Gets the false-positive-rate multiplier per stage.</summary>
    public double TighteningRatio { get; }

    /// <summary>Gets the number of stages.</summary>
    public int StageCount => _stages.Count;

    /// <summary>Gets the number of distinct items added (items the filter already reported present are not counted).</summary>
    public long Count { get; private set; }

    /// <summary>Gets the memory all stages occupy, in bytes.</summary>
    public long SizeBytes => _stages.Sum(static s => s.Filter.SizeBytes);

    /// <summary>Gets the compound false-positive bound of the current stages: <c>1 − Π(1 − pᵢ)</c>.</summary>
    public double CompoundFalsePositiveBound => 1 - _stages.Aggregate(1.0, static (acc, s) => acc * (1 - s.FalsePositiveRate));

    /// <summary>Adds <paramref name="item"/> unless the filter already reports it present.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="true"/> when the item was added.</returns>
    public bool Add(ReadOnlySpan<char> item)
    {
        BloomHash hash = BloomHash.Of(item);
        if (Contains(hash))
        {
            return false;
        }

        Stage last = _stages[^1];
        if (last.Count >= last.Capacity)
        {
            last = AddStage();
        }

        last.Filter.Add(hash);
        last.Count++;
        Count++;
        return true;
    }

    /// <summary>Returns whether <paramref name="item"/> may have been added.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> when certainly absent.</returns>
    public bool Contains(ReadOnlySpan<char> item) => Contains(BloomHash.Of(item));

    private bool Contains(BloomHash hash)
    {
        // Newest stages hold the most items, so they are checked first.
        for (int i = _stages.Count - 1; i >= 0; i--)
        {
            if (_stages[i].Filter.Contains(hash))
            {
                return true;
            }
        }

        return false;
    }

    private Stage AddStage()
    {
        int index = _stages.Count;
        long capacity = checked(InitialCapacity * (long)Math.Pow(GrowthFactor, index));
        double rate = FalsePositiveRate * (1 - TighteningRatio) * Math.Pow(TighteningRatio, index);
        Stage stage = new(new BloomFilter(capacity, rate), capacity, rate);
        _stages.Add(stage);
        return stage;
    }

    private sealed class Stage(BloomFilter filter, long capacity, double falsePositiveRate)
    {
        public BloomFilter Filter { get; } = filter;

        public long Capacity { get; } = capacity;

        public double FalsePositiveRate { get; } = falsePositiveRate;

        public long Count { get; set; }
    }
}
