namespace Blueprint.Core.Identifiers;

/// <summary>
/// Time-ordered 64-bit ids in the Snowflake layout: a zero sign bit, 41 bits of milliseconds since
/// <see cref="Epoch"/> (about 69 years), 10 bits of generator (node) id and a 12-bit sequence within the
/// millisecond. Ids of one generator strictly increase: a clock that steps back, or more than 4096 ids in
/// one millisecond, borrow from the last millisecond used instead of repeating an id. Not thread-safe: the
/// caller serialises <see cref="Next"/>; the time comes in as an argument.
/// </summary>
public sealed class TimeOrderedIds
{
    /// <summary>Milliseconds since the Unix epoch of the ids' epoch, 2020-01-01T00:00:00Z.</summary>
    public const long Epoch = 1_577_836_800_000;

    /// <summary>The largest generator id.</summary>
    public const int GeneratorMax = (1 << GeneratorBits) - 1;

    private const int GeneratorBits = 10;
    private const int SequenceBits = 12;
    private const long SequenceMask = (1L << SequenceBits) - 1;

    private readonly long _generator;
    private long _lastMillisecond = -1;
    private long _sequence;

    /// <summary>A generator with id <paramref name="generator"/> (0 to <see cref="GeneratorMax"/>), unique among those writing one id space.</summary>
    public TimeOrderedIds(int generator)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(generator);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(generator, GeneratorMax);
        _generator = generator;
    }

    /// <summary>The next id, at <paramref name="unixMilliseconds"/> (the caller's clock).</summary>
    public long Next(long unixMilliseconds)
    {
        var millisecond = Math.Max(unixMilliseconds - Epoch, 0);
        if (millisecond > _lastMillisecond)
        {
            _lastMillisecond = millisecond;
            _sequence = 0;
        }
        else if (++_sequence > SequenceMask)
        {
            _lastMillisecond++;
            _sequence = 0;
        }

        return (_lastMillisecond << (GeneratorBits + SequenceBits)) | (_generator << SequenceBits) | _sequence;
    }

    /// <summary>The Unix milliseconds an id was made at.</summary>
    public static long UnixMillisecondsOf(long id) => (id >> (GeneratorBits + SequenceBits)) + Epoch;

    /// <summary>The smallest id any generator makes at <paramref name="unixMilliseconds"/>: a lower bound for range queries by time.</summary>
    public static long FirstAt(long unixMilliseconds) => Math.Max(unixMilliseconds - Epoch, 0) << (GeneratorBits + SequenceBits);
}
