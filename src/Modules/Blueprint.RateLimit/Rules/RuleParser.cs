using System.Globalization;
using Blueprint.Core.RateLimiting.Stores;
using YamlDotNet.RepresentationModel;

namespace Blueprint.RateLimit.Rules;

/// <summary>
/// Reads rules from YAML or JSON (JSON is YAML's flow style), in the shape envoyproxy/ratelimit
/// uses, extended with <c>algorithm</c>, <c>burst</c> and <c>fail_mode</c>. Every problem is
/// collected and reported at once, each naming the rule's path.
/// </summary>
/// <example>
/// <code>
/// domains:
///   - domain: api
///     descriptors:
///       - key: remote_address
///         rate_limit: { unit: second, requests_per_unit: 10 }
///         algorithm: token_bucket
///         burst: 20
///       - key: path
///         value: /login
///         descriptors:
///           - key: remote_address
///             rate_limit: { unit: minute, requests_per_unit: 5 }
///             algorithm: sliding_log
///             fail_mode: closed
/// </code>
/// </example>
public static class RuleParser
{
    /// <summary>The largest rules document read: 1 MiB.</summary>
    public const int DocumentBytesMax = 1024 * 1024;

    /// <summary>The deepest descriptor nesting allowed.</summary>
    public const int DepthMax = 8;

    private static readonly Dictionary<string, TimeSpan> Units = new(StringComparer.OrdinalIgnoreCase)
    {
        ["second"] = TimeSpan.FromSeconds(1),
        ["minute"] = TimeSpan.FromMinutes(1),
        ["hour"] = TimeSpan.FromHours(1),
        ["day"] = TimeSpan.FromDays(1),
    };

    private static readonly Dictionary<string, RateLimitAlgorithm> Algorithms = new(StringComparer.OrdinalIgnoreCase)
    {
        ["token_bucket"] = RateLimitAlgorithm.TokenBucket,
        ["gcra"] = RateLimitAlgorithm.Gcra,
        ["sliding_window_counter"] = RateLimitAlgorithm.SlidingWindowCounter,
        ["sliding_log"] = RateLimitAlgorithm.SlidingLog,
        ["fixed_window"] = RateLimitAlgorithm.FixedWindow,
        ["leaky_bucket"] = RateLimitAlgorithm.LeakyBucket,
    };

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="RuleValidationException">The document is malformed or a rule is invalid; the exception lists every problem.</exception>
    public static RuleSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var errors = new List<string>();
        if (text.Length > DocumentBytesMax)
        {
            throw new RuleValidationException([$"the rules document is larger than {DocumentBytesMax} bytes"]);
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new RuleValidationException([$"not valid YAML or JSON at line {e.Start.Line}, column {e.Start.Column}: {e.Message}"]);
        }

        if (stream.Documents.Count == 0)
        {
            return RuleSet.Empty;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new RuleValidationException(["the document must be a mapping with 'domains' (a list) or 'domain' and 'descriptors'"]);
        }

        var domainNodes = Get(root, "domains") is YamlSequenceNode list ? list.Children.ToList() : [root];
        var domains = new Dictionary<string, DomainRules>(StringComparer.Ordinal);
        for (var i = 0; i < domainNodes.Count; i++)
        {
            if (domainNodes[i] is not YamlMappingNode domainNode)
            {
                errors.Add($"domains[{i}]: must be a mapping with 'domain' and 'descriptors'");
                continue;
            }

            var name = Scalar(domainNode, "domain");
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add($"domains[{i}]: 'domain' is required");
                continue;
            }

            if (domains.ContainsKey(name))
            {
                errors.Add($"domain '{name}': defined twice");
                continue;
            }

            domains[name] = new DomainRules(name, ParseDescriptors(domainNode, name, 1, errors));
        }

        if (errors.Count > 0)
        {
            throw new RuleValidationException(errors);
        }

        return new RuleSet(domains);
    }

    private static List<DescriptorRule> ParseDescriptors(YamlMappingNode parent, string path, int depth, List<string> errors)
    {
        var result = new List<DescriptorRule>();
        var node = Get(parent, "descriptors");
        if (node is null)
        {
            return result;
        }

        if (node is not YamlSequenceNode list)
        {
            errors.Add($"{path}: 'descriptors' must be a list");
            return result;
        }

        if (depth > DepthMax)
        {
            errors.Add($"{path}: descriptors nest deeper than {DepthMax} levels");
            return result;
        }

        var seen = new HashSet<(string, string?)>();
        foreach (var child in list.Children)
        {
            if (child is not YamlMappingNode descriptor)
            {
                errors.Add($"{path}: each descriptor must be a mapping with 'key'");
                continue;
            }

            var key = Scalar(descriptor, "key");
            var value = Scalar(descriptor, "value");
            var here = value is null ? $"{path}/{key}" : $"{path}/{key}={value}";
            if (string.IsNullOrEmpty(key))
            {
                errors.Add($"{path}: a descriptor has no 'key'");
                continue;
            }

            if (!seen.Add((key, value)))
            {
                errors.Add($"{here}: defined twice at the same level");
            }

            var limit = ParseLimit(descriptor, here, errors);
            var children = ParseDescriptors(descriptor, here, depth + 1, errors);
            if (limit is null && children.Count == 0)
            {
                errors.Add($"{here}: has neither a 'rate_limit' nor nested 'descriptors'");
            }

            result.Add(new DescriptorRule(here, key, value, limit, children));
        }

        return result;
    }

    private static RuleLimit? ParseLimit(YamlMappingNode descriptor, string path, List<string> errors)
    {
        var unlimited = Boolean(descriptor, "unlimited", path, errors);
        var node = Get(descriptor, "rate_limit");
        if (node is null)
        {
            return unlimited ? new RuleLimit(new LimitSpec(RateLimitAlgorithm.TokenBucket, 1, TimeSpan.FromSeconds(1)), false, true, FailMode.Open) : null;
        }

        if (node is not YamlMappingNode rateLimit)
        {
            errors.Add($"{path}: 'rate_limit' must be a mapping with 'unit' and 'requests_per_unit'");
            return null;
        }

        var unitText = Scalar(rateLimit, "unit");
        if (unitText is null || !Units.TryGetValue(unitText, out var unit))
        {
            errors.Add($"{path}: rate_limit.unit '{unitText}' must be second, minute, hour or day");
            unit = TimeSpan.FromSeconds(1);
        }

        var requests = Integer(rateLimit, "requests_per_unit", path, 1, 1_000_000_000, errors) ?? 1;
        var algorithmText = Scalar(descriptor, "algorithm") ?? "token_bucket";
        if (!Algorithms.TryGetValue(algorithmText, out var algorithm))
        {
            errors.Add($"{path}: algorithm '{algorithmText}' must be one of {string.Join(", ", Algorithms.Keys)}");
        }

        var burst = Integer(descriptor, "burst", path, 1, 1_000_000_000, errors) ?? 0;
        var failText = Scalar(descriptor, "fail_mode") ?? "open";
        var failMode = FailMode.Open;
        if (string.Equals(failText, "closed", StringComparison.OrdinalIgnoreCase))
        {
            failMode = FailMode.Closed;
        }
        else if (!string.Equals(failText, "open", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{path}: fail_mode '{failText}' must be open or closed");
        }

        var spec = new LimitSpec(algorithm, requests, unit, burst);
        if (algorithm == RateLimitAlgorithm.SlidingLog && requests > SlidingLogRequestsMax)
        {
            errors.Add($"{path}: sliding_log keeps one entry per request; requests_per_unit {requests} is above its limit {SlidingLogRequestsMax}");
        }

        if (spec.UnitMicroseconds / requests < 1)
        {
            errors.Add($"{path}: {requests} per {unitText} is more than one per microsecond");
        }

        return new RuleLimit(spec, Boolean(descriptor, "shadow_mode", path, errors), unlimited, failMode, Boolean(descriptor, "local_batch", path, errors));
    }

    /// <summary>The largest limit a sliding log may have: it stores one timestamp per admitted request.</summary>
    public const long SlidingLogRequestsMax = 10_000;

    private static YamlNode? Get(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlMappingNode node, string key) => (Get(node, key) as YamlScalarNode)?.Value;

    private static long? Integer(YamlMappingNode node, string key, string path, long min, long max, List<string> errors)
    {
        var text = Scalar(node, key);
        if (text is null)
        {
            if (Get(node, key) is not null)
            {
                errors.Add($"{path}: '{key}' must be a whole number");
            }
            else if (key == "requests_per_unit")
            {
                errors.Add($"{path}: rate_limit.requests_per_unit is required");
            }

            return null;
        }

        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            errors.Add($"{path}: '{key}' = '{text}' must be a whole number from {min} to {max}");
            return null;
        }

        return value;
    }

    private static bool Boolean(YamlMappingNode node, string key, string path, List<string> errors)
    {
        var text = Scalar(node, key);
        if (text is null)
        {
            return false;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        errors.Add($"{path}: '{key}' = '{text}' must be true or false");
        return false;
    }
}

/// <summary>Rules that cannot be used; <see cref="Problems"/> lists every problem found, each naming the rule.</summary>
public sealed class RuleValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RuleValidationException(IReadOnlyList<string> problems)
        : base("invalid rate-limit rules: " + string.Join("; ", problems)) => Problems = problems;

    /// <summary>Creates the exception.</summary>
    public RuleValidationException()
        : this(["invalid rate-limit rules"])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RuleValidationException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RuleValidationException(string message, Exception innerException)
        : base(message, innerException) => Problems = [message];

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; }
}
