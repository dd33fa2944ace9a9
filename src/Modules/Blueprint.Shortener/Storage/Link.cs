namespace Blueprint.Shortener.Storage;

/// <summary>A short link as stored: the truth lives in SQL.</summary>
/// <param name="Code">The short code (generated or a custom alias).</param>
/// <param name="Url">The normalized target.</param>
/// <param name="Id">The ID the code was made from; null for a custom alias.</param>
/// <param name="RedirectType">301 or 302.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="ExpiresAt">When it stops redirecting (410 from then on); null for never.</param>
internal sealed record Link(string Code, string Url, long? Id, int RedirectType, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt)
{
    /// <summary>Whether the link has expired at <paramref name="now"/>.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } expires && expires <= now;
}

/// <summary>A link's click statistics.</summary>
/// <param name="TotalClicks">Every click recorded.</param>
/// <param name="PerDay">Clicks per UTC day, oldest first.</param>
/// <param name="TopReferrers">The referrer hosts with the most clicks.</param>
/// <param name="UserAgents">Clicks per user-agent family.</param>
internal sealed record LinkStats(
    long TotalClicks,
    IReadOnlyList<(DateOnly Day, long Clicks)> PerDay,
    IReadOnlyList<(string Referrer, long Clicks)> TopReferrers,
    IReadOnlyList<(string Family, long Clicks)> UserAgents);

/// <summary>Clicks aggregated for one write: per code and day, referrer and user-agent family.</summary>
internal sealed class ClickAggregate
{
    /// <summary>Clicks per (code, day number since 1970-01-01).</summary>
    public Dictionary<(string Code, int Day), long> Daily { get; } = [];

    /// <summary>Clicks per (code, referrer host).</summary>
    public Dictionary<(string Code, string Referrer), long> Referrers { get; } = [];

    /// <summary>Clicks per (code, user-agent family).</summary>
    public Dictionary<(string Code, string Family), long> Agents { get; } = [];

    /// <summary>Whether there is nothing to write.</summary>
    public bool IsEmpty => Daily.Count == 0;
}
