using Microsoft.AspNetCore.Http;

namespace Blueprint.Hosting;

/// <summary>
/// Requests the node does not trace: its probes and scrape endpoint always, and what modules add (a trace store does
/// not trace the exports it receives or the queries its dashboard polls, or each would record more of itself).
/// </summary>
public sealed class TracingFilterOptions
{
    /// <summary>Path prefixes (whole segments) whose requests start no span.</summary>
    public List<string> UntracedPathPrefixes { get; } = ["/metrics", "/healthz", "/readyz"];

    /// <summary>Whether a request to <paramref name="path"/> is traced.</summary>
    public bool IsTraced(PathString path)
    {
        foreach (var prefix in UntracedPathPrefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
