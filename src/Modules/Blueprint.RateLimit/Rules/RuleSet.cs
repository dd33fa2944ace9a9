using Blueprint.Core.RateLimiting.Stores;

namespace Blueprint.RateLimit.Rules;

/// <summary>What to do with a request when the KV that holds the counters cannot be reached.</summary>
public enum FailMode
{
    /// <summary>Admit, through a per-node fallback limiter with the same limit (availability first).</summary>
    Open,

    /// <summary>Deny (protection first).</summary>
    Closed,
}

/// <summary>
/// The rules, immutable: domains of nested descriptors, as envoyproxy/ratelimit configures them.
/// A request names a domain and one or more descriptors (ordered lists of key/value entries); each
/// descriptor is matched level by level and the deepest node with a limit applies.
/// </summary>
/// <param name="Domains">The domains by name.</param>
public sealed record RuleSet(IReadOnlyDictionary<string, DomainRules> Domains)
{
    /// <summary>No rules: every request is admitted.</summary>
    public static RuleSet Empty { get; } = new(new Dictionary<string, DomainRules>());

    /// <summary>Finds the rule for <paramref name="entries"/> in <paramref name="domain"/>, or null when none applies.</summary>
    public MatchedRule? Match(string domain, IReadOnlyList<DescriptorEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (!Domains.TryGetValue(domain, out var rules) || entries.Count == 0)
        {
            return null;
        }

        IReadOnlyList<DescriptorRule> level = rules.Descriptors;
        DescriptorRule? node = null;
        foreach (var entry in entries)
        {
            node = Find(level, entry);
            if (node is null)
            {
                return null;
            }

            level = node.Descriptors;
        }

        return node?.Limit is { } limit ? new MatchedRule(domain, node, limit, CounterKey(domain, entries)) : null;
    }

    // A node with the exact value wins over a wildcard (a node with the key and no value).
    private static DescriptorRule? Find(IReadOnlyList<DescriptorRule> level, DescriptorEntry entry)
    {
        DescriptorRule? wildcard = null;
        foreach (var rule in level)
        {
            if (!string.Equals(rule.Key, entry.Key, StringComparison.Ordinal))
            {
                continue;
            }

            if (rule.Value is null)
            {
                wildcard ??= rule;
            }
            else if (string.Equals(rule.Value, entry.Value, StringComparison.Ordinal))
            {
                return rule;
            }
        }

        return wildcard;
    }

    // Each distinct value under a wildcard gets its own counter, as in envoyproxy/ratelimit.
    private static string CounterKey(string domain, IReadOnlyList<DescriptorEntry> entries)
    {
        var key = new System.Text.StringBuilder(domain);
        foreach (var entry in entries)
        {
            key.Append('|').Append(entry.Key).Append('=').Append(entry.Value);
        }

        return key.ToString();
    }
}

/// <summary>The rules of one domain.</summary>
/// <param name="Name">The domain.</param>
/// <param name="Descriptors">The top-level descriptors.</param>
public sealed record DomainRules(string Name, IReadOnlyList<DescriptorRule> Descriptors);

/// <summary>One node of the descriptor tree.</summary>
/// <param name="Path">Where it is, for messages and metrics, e.g. <c>api/path=/login/remote_address</c>.</param>
/// <param name="Key">The entry key it matches.</param>
/// <param name="Value">The entry value it matches; null matches any value.</param>
/// <param name="Limit">The limit at this node, or null when only its children limit.</param>
/// <param name="Descriptors">The nested descriptors.</param>
public sealed record DescriptorRule(string Path, string Key, string? Value, RuleLimit? Limit, IReadOnlyList<DescriptorRule> Descriptors);

/// <summary>A limit and how it behaves.</summary>
/// <param name="Spec">The limit.</param>
/// <param name="ShadowMode">Decide and count, but never deny (to try a rule on live traffic).</param>
/// <param name="Unlimited">Never limit (an exception under a wildcard).</param>
/// <param name="FailMode">What to do when the KV cannot be reached.</param>
/// <param name="LocalBatch">Approximate local-batch mode: each node reserves permits in batches (see <see cref="LocalBatchStore"/>).</param>
public sealed record RuleLimit(LimitSpec Spec, bool ShadowMode, bool Unlimited, FailMode FailMode, bool LocalBatch = false);

/// <summary>One key/value of a request descriptor.</summary>
/// <param name="Key">The key, e.g. <c>remote_address</c>.</param>
/// <param name="Value">The value, e.g. <c>10.0.0.1</c>.</param>
public readonly record struct DescriptorEntry(string Key, string Value);

/// <summary>The rule a descriptor matched.</summary>
/// <param name="Domain">The domain.</param>
/// <param name="Rule">The matched node.</param>
/// <param name="Limit">Its limit.</param>
/// <param name="CounterKey">The key of the counter in the store.</param>
public sealed record MatchedRule(string Domain, DescriptorRule Rule, RuleLimit Limit, string CounterKey);
