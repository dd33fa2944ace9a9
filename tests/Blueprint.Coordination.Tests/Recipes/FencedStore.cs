namespace Blueprint.Coordination.Tests.Recipes;

/// <summary>
/// A resource protected by a lock, the way Kleppmann's "How to do distributed locking" (2016)
/// asks: it remembers the highest fencing token it has accepted and rejects any write carrying a
/// lower one, so a holder that paused past its lease cannot overwrite its successor's work.
/// With <c>fenced: false</c> it is the broken variant that trusts the lock alone.
/// </summary>
public sealed class FencedStore(bool fenced = true)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _values = [];
    private long _highestToken;

    /// <summary>Writes <paramref name="value"/> if <paramref name="fencingToken"/> is not older than any accepted before.</summary>
    /// <returns>Whether the write was accepted.</returns>
    public bool TryWrite(string key, string value, long fencingToken)
    {
        lock (_gate)
        {
            if (fenced && fencingToken < _highestToken)
            {
                return false;
            }

            _highestToken = Math.Max(_highestToken, fencingToken);
            _values[key] = value;
            return true;
        }
    }

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public string? Read(string key)
    {
        lock (_gate)
        {
            return _values.GetValueOrDefault(key);
        }
    }
}
