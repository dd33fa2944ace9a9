namespace Blueprint.Gateway;

/// <summary>
/// A CORS policy a route names in its <c>CorsPolicy</c> (configuration <c>Gateway:Cors:{name}</c>;
/// read at start). Empty <see cref="Methods"/> or <see cref="Headers"/> allow any.
/// </summary>
public sealed class CorsPolicySettings
{
    /// <summary>The allowed origins (<c>https://app.example</c>), or <c>*</c> for any.</summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>The allowed methods; empty for any.</summary>
    public List<string> Methods { get; set; } = [];

    /// <summary>The allowed request headers; empty for any.</summary>
    public List<string> Headers { get; set; } = [];

    /// <summary>Response headers the browser may read.</summary>
    public List<string> ExposedHeaders { get; set; } = [];

    /// <summary>Whether cookies and credentials are allowed (never with origin <c>*</c>).</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>How long a browser may cache a preflight answer. <value>0–86400 seconds; default 600.</value></summary>
    public int MaxAgeSeconds { get; set; } = 600;

    /// <summary>Every problem with the policy, each a reason and the key it concerns.</summary>
    internal IEnumerable<(string Key, string Reason)> Problems()
    {
        if (Origins.Count == 0)
        {
            yield return (nameof(Origins), "needs at least one origin, or *");
        }

        foreach (var origin in Origins.Where(origin => origin != "*"))
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                yield return (nameof(Origins), $"'{origin}' is not an origin (scheme://host[:port], no path)");
            }
        }

        if (AllowCredentials && Origins.Contains("*"))
        {
            yield return (nameof(AllowCredentials), "cannot be true with origin * (browsers refuse it); list the origins");
        }

        if (MaxAgeSeconds is < 0 or > 86_400)
        {
            yield return (nameof(MaxAgeSeconds), "must be from 0 to 86400 seconds");
        }
    }
}
