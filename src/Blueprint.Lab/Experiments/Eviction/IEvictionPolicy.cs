namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// A cache of keys under one eviction policy, filled on demand: every access is a lookup, and a miss admits the key
/// (evicting whatever the policy picks). Values play no part in a hit ratio, so there are none.
/// </summary>
internal interface IEvictionPolicy
{
    /// <summary>Gets the name shown in tables.</summary>
    string Name { get; }

    /// <summary>Looks <paramref name="key"/> up and admits it on a miss.</summary>
    /// <param name="key">The key.</param>
    /// <param name="now">The logical time of the access: its index in the trace. Only expiry reads it.</param>
    /// <returns>Whether the key was in the cache.</returns>
    bool Access(int key, long now);
}
