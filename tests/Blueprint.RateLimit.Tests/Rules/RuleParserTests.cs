using Blueprint.Core.RateLimiting.Stores;
using Blueprint.RateLimit;
using Blueprint.RateLimit.Rules;

namespace Blueprint.RateLimit.Tests.Rules;

public sealed class RuleParserTests
{
    internal const string Sample = """
        domains:
          - domain: api
            descriptors:
              - key: remote_address
                rate_limit: { unit: second, requests_per_unit: 10 }
                algorithm: token_bucket
                burst: 20
              - key: remote_address
                value: 10.0.0.99
                unlimited: true
              - key: path
                value: /login
                descriptors:
                  - key: remote_address
                    rate_limit: { unit: minute, requests_per_unit: 5 }
                    algorithm: sliding_log
                    fail_mode: closed
              - key: api_key
                rate_limit: { unit: hour, requests_per_unit: 1000 }
                algorithm: gcra
                shadow_mode: true
        """;

    private static IReadOnlyList<DescriptorEntry> Entries(params string[] keyValues) =>
        Enumerable.Range(0, keyValues.Length / 2).Select(i => new DescriptorEntry(keyValues[2 * i], keyValues[(2 * i) + 1])).ToList();

    [Fact]
    public void Parse_Sample_MatchesWildcardPerValueCounters()
    {
        var rules = RuleParser.Parse(Sample);
        var first = rules.Match("api", Entries("remote_address", "10.0.0.1"));
        var second = rules.Match("api", Entries("remote_address", "10.0.0.2"));

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal(new LimitSpec(RateLimitAlgorithm.TokenBucket, 10, TimeSpan.FromSeconds(1), 20), first.Limit.Spec);
        Assert.Equal("api/remote_address", first.Rule.Path);
        Assert.NotEqual(first.CounterKey, second.CounterKey);
        Assert.Equal("api|remote_address=10.0.0.1", first.CounterKey);
    }

    [Fact]
    public void Parse_ExactValue_WinsOverWildcard()
    {
        var match = RuleParser.Parse(Sample).Match("api", Entries("remote_address", "10.0.0.99"));
        Assert.NotNull(match);
        Assert.True(match.Limit.Unlimited);
    }

    [Fact]
    public void Parse_NestedDescriptor_AppliesDeepestLimitOnlyForFullPath()
    {
        var rules = RuleParser.Parse(Sample);
        var nested = rules.Match("api", Entries("path", "/login", "remote_address", "10.0.0.1"));
        Assert.NotNull(nested);
        Assert.Equal(RateLimitAlgorithm.SlidingLog, nested.Limit.Spec.Algorithm);
        Assert.Equal(FailMode.Closed, nested.Limit.FailMode);
        Assert.Equal(TimeSpan.FromMinutes(1), nested.Limit.Spec.Unit);

        Assert.Null(rules.Match("api", Entries("path", "/login")));
        Assert.Null(rules.Match("api", Entries("path", "/other", "remote_address", "10.0.0.1")));
        Assert.Null(rules.Match("other-domain", Entries("remote_address", "10.0.0.1")));
    }

    [Fact]
    public void Parse_Json_IsAccepted()
    {
        const string json = """{"domain":"api","descriptors":[{"key":"user","rate_limit":{"unit":"day","requests_per_unit":3},"algorithm":"fixed_window"}]}""";
        var match = RuleParser.Parse(json).Match("api", Entries("user", "ada"));
        Assert.NotNull(match);
        Assert.Equal(new LimitSpec(RateLimitAlgorithm.FixedWindow, 3, TimeSpan.FromDays(1)), match.Limit.Spec);
        Assert.True(match.Limit.ShadowMode is false);
    }

    [Fact]
    public void Parse_LocalBatch_IsReadPerRule()
    {
        const string rules = "domain: api\ndescriptors:\n  - key: k\n    rate_limit: { unit: second, requests_per_unit: 100 }\n    local_batch: true\n";
        Assert.True(RuleParser.Parse(rules).Match("api", Entries("k", "v"))!.Limit.LocalBatch);
        Assert.False(RuleParser.Parse(Sample).Match("api", Entries("remote_address", "1"))!.Limit.LocalBatch);
    }

    [Fact]
    public void Parse_InvalidRules_ReportsEveryProblemNamingTheRule()
    {
        const string bad = """
            domain: api
            descriptors:
              - key: remote_address
                rate_limit: { unit: fortnight, requests_per_unit: 0 }
                algorithm: magic
                fail_mode: maybe
              - key: path
              - value: orphan
            """;
        var error = Assert.Throws<RuleValidationException>(() => RuleParser.Parse(bad));
        Assert.Contains("api/remote_address: rate_limit.unit 'fortnight' must be second, minute, hour or day", error.Problems);
        Assert.Contains(error.Problems, p => p.StartsWith("api/remote_address: 'requests_per_unit' = '0' must be a whole number from 1", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("api/remote_address: algorithm 'magic' must be one of", StringComparison.Ordinal));
        Assert.Contains("api/remote_address: fail_mode 'maybe' must be open or closed", error.Problems);
        Assert.Contains("api/path: has neither a 'rate_limit' nor nested 'descriptors'", error.Problems);
        Assert.Contains("api: a descriptor has no 'key'", error.Problems);
        Assert.Equal(6, error.Problems.Count);
    }

    [Fact]
    public void Parse_MalformedYaml_NamesTheLine()
    {
        var error = Assert.Throws<RuleValidationException>(() => RuleParser.Parse("domain: api\ndescriptors: [ {key: a, \n"));
        Assert.Contains("not valid YAML or JSON at line", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SlidingLogAboveItsBound_IsRejected()
    {
        const string big = "domain: api\ndescriptors:\n  - key: k\n    rate_limit: { unit: hour, requests_per_unit: 50000 }\n    algorithm: sliding_log\n";
        var error = Assert.Throws<RuleValidationException>(() => RuleParser.Parse(big));
        Assert.Contains("sliding_log keeps one entry per request", Assert.Single(error.Problems), StringComparison.Ordinal);
    }
}
