using Blueprint.Core.RateLimiting.Stores;

namespace Blueprint.Notify.Limits;

/// <summary>
/// One rate limit of the notify module: <see cref="Count"/> per <see cref="Window"/>, decided as a token bucket that holds
/// <see cref="Count"/> permits (a burst of up to the count, then one permit every <see cref="Interval"/>).
/// </summary>
/// <param name="Count">How many per window; 1 to <see cref="CountMax"/>.</param>
/// <param name="Window">The window; 1 second to 24 hours.</param>
/// <param name="Text">The limit as configured, for messages (<c>10/1m</c>).</param>
public sealed record NotifyLimit(long Count, TimeSpan Window, string Text)
{
    /// <summary>The largest count of a limit.</summary>
    public const long CountMax = 1_000_000;

    /// <summary>What a limit looks like, for messages.</summary>
    public const string Shape = "a count from 1 to 1000000, a slash and a window of s, m or h from 1s to 24h";

    /// <summary>The channels a delivery limit may name; each subscription protocol belongs to one (<see cref="ChannelOf"/>).</summary>
    public static readonly IReadOnlyList<string> Channels = ["webhook", "email", "mqtt", "inbox", "log"];

    /// <summary>The limit as the rate-limit stores take it.</summary>
    public LimitSpec Spec { get; } = new(RateLimitAlgorithm.TokenBucket, Count, Window);

    /// <summary>The time between two permits once the burst is spent.</summary>
    public TimeSpan Interval => Window / Count;

    /// <summary>The channel of a subscription protocol: <c>http</c> and <c>https</c> are webhook, <c>email-json</c> is email, <c>sqs</c> is log.</summary>
    public static string ChannelOf(string protocol) => protocol switch
    {
        "http" or "https" => "webhook",
        "email" or "email-json" => "email",
        "sqs" or "log" => "log",
        _ => protocol,
    };

    /// <summary>A limit such as <c>100/1m</c>, or null when the text is not one.</summary>
    public static NotifyLimit? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Split('/') is not [var count, var window]
            || !long.TryParse(count, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var permits)
            || permits is < 1 or > CountMax
            || NotifyOptions.ParseDelays(window) is not [var span]
            || span < TimeSpan.FromSeconds(1))
        {
            return null;
        }

        return new NotifyLimit(permits, span, trimmed);
    }

    /// <summary>Limits by channel such as <c>email=10/1m,webhook=600/1m</c>, or null when the text is not that (an unknown or repeated channel, a bad limit).</summary>
    public static IReadOnlyDictionary<string, NotifyLimit>? ParseByChannel(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var limits = new Dictionary<string, NotifyLimit>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (pair.Split('=', 2) is not [var channel, var limit]
                || !Channels.Contains(channel.Trim())
                || Parse(limit) is not { } parsed
                || !limits.TryAdd(channel.Trim(), parsed))
            {
                return null;
            }
        }

        return limits;
    }
}
