using System.Globalization;
using System.Text.Json;
using Blueprint.Notify.Channels;

namespace Blueprint.Notify.Pipeline;

/// <summary>
/// An SNS subscription filter policy: a JSON object whose keys name message attributes (scope <c>MessageAttributes</c>)
/// or body properties (scope <c>MessageBody</c>, nested objects for nested properties), each with an array of
/// conditions of which one must hold; every key must match, and a <c>$or</c> key holds alternative policies. Conditions:
/// a string or number equal to the value, <c>{"prefix": …}</c>, <c>{"suffix": …}</c>, <c>{"anything-but": value, [values] or {"prefix": …}}</c>,
/// <c>{"numeric": ["&gt;", 0, "&lt;=", 5]}</c>, <c>{"exists": true|false}</c>, <c>{"equals-ignore-case": …}</c>; <c>null</c> matches a null body value.
/// Written here because SNS's filter language has no .NET implementation.
/// </summary>
public sealed class FilterPolicy
{
    private readonly JsonElement _policy;

    private FilterPolicy(JsonElement policy) => _policy = policy;

    /// <summary>Parses and checks a policy; <paramref name="error"/> says what is wrong when it returns null.</summary>
    public static FilterPolicy? Parse(string json, out string? error)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "Filter policy must be a JSON object";
                return null;
            }

            error = Check(root, 0);
            return error is null ? new FilterPolicy(root) : null;
        }
        catch (JsonException e)
        {
            error = $"Filter policy is not valid JSON: {e.Message}";
            return null;
        }
    }

    /// <summary>Whether message attributes match (scope <c>MessageAttributes</c>).</summary>
    public bool MatchesAttributes(IReadOnlyDictionary<string, AttributeValue> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        return MatchesObject(_policy, name => attributes.TryGetValue(name, out var value) ? AttributeValues(value) : null);
    }

    /// <summary>Whether a JSON message body matches (scope <c>MessageBody</c>); a body that is not a JSON object never does.</summary>
    public bool MatchesBody(string message)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            return document.RootElement.ValueKind == JsonValueKind.Object && MatchesBodyObject(_policy, document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? Check(JsonElement policy, int depth)
    {
        if (depth > 5)
        {
            return "Filter policy is nested too deeply (at most 5 levels)";
        }

        var conditions = 0;
        foreach (var property in policy.EnumerateObject())
        {
            if (property.Name == "$or")
            {
                if (property.Value.ValueKind != JsonValueKind.Array || property.Value.GetArrayLength() < 2)
                {
                    return "$or must be an array of at least two policies";
                }

                foreach (var alternative in property.Value.EnumerateArray())
                {
                    if (alternative.ValueKind != JsonValueKind.Object || Check(alternative, depth + 1) is { } error)
                    {
                        return "$or must hold policy objects";
                    }
                }

                continue;
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Object:
                    if (Check(property.Value, depth + 1) is { } nested)
                    {
                        return nested;
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var condition in property.Value.EnumerateArray())
                    {
                        conditions++;
                        if (CheckCondition(condition) is { } error)
                        {
                            return $"{property.Name}: {error}";
                        }
                    }

                    break;
                default:
                    return $"Match value for {property.Name} must be an array or an object";
            }
        }

        return conditions > 150 ? "Filter policy has more than 150 conditions" : null;
    }

    private static string? CheckCondition(JsonElement condition)
    {
        if (condition.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False)
        {
            return null;
        }

        if (condition.ValueKind != JsonValueKind.Object || condition.EnumerateObject().Count() != 1)
        {
            return "each condition must be a value or an object with one operator";
        }

        var rule = condition.EnumerateObject().First();
        return rule.Name switch
        {
            "prefix" or "suffix" or "equals-ignore-case" => rule.Value.ValueKind == JsonValueKind.String ? null : $"{rule.Name} takes a string",
            "exists" => rule.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "exists takes true or false",
            "anything-but" => rule.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Array
                || (rule.Value.ValueKind == JsonValueKind.Object && rule.Value.TryGetProperty("prefix", out _)) ? null : "anything-but takes a value, an array or {\"prefix\": …}",
            "numeric" => CheckNumeric(rule.Value),
            _ => $"unknown operator {rule.Name}",
        };
    }

    private static string? CheckNumeric(JsonElement rule)
    {
        if (rule.ValueKind != JsonValueKind.Array || rule.GetArrayLength() is not (2 or 4))
        {
            return "numeric takes [op, number] or [op, number, op, number]";
        }

        var items = rule.EnumerateArray().ToArray();
        for (var i = 0; i < items.Length; i += 2)
        {
            if (items[i].ValueKind != JsonValueKind.String || items[i].GetString() is not ("=" or "<" or "<=" or ">" or ">=") || items[i + 1].ValueKind != JsonValueKind.Number)
            {
                return "numeric takes operators =, <, <=, >, >= each followed by a number";
            }
        }

        return null;
    }

    // An attribute's values as JSON-ish scalars: strings, numbers (Number attributes) and each element of a String.Array.
    private static List<JsonElement>? AttributeValues(AttributeValue value)
    {
        if (value.StringValue is null)
        {
            return null;
        }

        if (value.DataType.StartsWith("String.Array", StringComparison.Ordinal))
        {
            try
            {
                using var array = JsonDocument.Parse(value.StringValue);
                return array.RootElement.ValueKind == JsonValueKind.Array ? [.. array.RootElement.EnumerateArray().Select(item => item.Clone())] : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        var json = value.DataType.StartsWith("Number", StringComparison.Ordinal) ? value.StringValue : JsonSerializer.Serialize(value.StringValue);
        try
        {
            using var scalar = JsonDocument.Parse(json);
            return [scalar.RootElement.Clone()];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool MatchesObject(JsonElement policy, Func<string, List<JsonElement>?> lookup)
    {
        foreach (var property in policy.EnumerateObject())
        {
            if (property.Name == "$or")
            {
                if (!property.Value.EnumerateArray().Any(alternative => MatchesObject(alternative, lookup)))
                {
                    return false;
                }

                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.Array || !MatchesConditions(property.Value, lookup(property.Name)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool MatchesBodyObject(JsonElement policy, JsonElement body)
    {
        foreach (var property in policy.EnumerateObject())
        {
            if (property.Name == "$or")
            {
                if (!property.Value.EnumerateArray().Any(alternative => MatchesBodyObject(alternative, body)))
                {
                    return false;
                }

                continue;
            }

            var value = default(JsonElement);
            var present = body.ValueKind == JsonValueKind.Object && body.TryGetProperty(property.Name, out value);
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                if (!present || !MatchesBodyObject(property.Value, value))
                {
                    return false;
                }

                continue;
            }

            List<JsonElement>? values = !present ? null : value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : [value];
            if (!MatchesConditions(property.Value, values))
            {
                return false;
            }
        }

        return true;
    }

    private static bool MatchesConditions(JsonElement conditions, List<JsonElement>? values) =>
        conditions.EnumerateArray().Any(condition => Matches(condition, values));

    private static bool Matches(JsonElement condition, List<JsonElement>? values)
    {
        if (condition.ValueKind == JsonValueKind.Object)
        {
            var rule = condition.EnumerateObject().First();
            if (rule.Name == "exists")
            {
                return (values is not null) == rule.Value.GetBoolean();
            }

            if (values is null)
            {
                return false;
            }

            return rule.Name switch
            {
                "prefix" => values.Any(value => value.ValueKind == JsonValueKind.String && value.GetString()!.StartsWith(rule.Value.GetString()!, StringComparison.Ordinal)),
                "suffix" => values.Any(value => value.ValueKind == JsonValueKind.String && value.GetString()!.EndsWith(rule.Value.GetString()!, StringComparison.Ordinal)),
                "equals-ignore-case" => values.Any(value => value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), rule.Value.GetString(), StringComparison.OrdinalIgnoreCase)),
                "anything-but" => values.All(value => !AnythingButExcludes(rule.Value, value)),
                "numeric" => values.Any(value => value.ValueKind == JsonValueKind.Number && InRange(rule.Value, value.GetDouble())),
                _ => false,
            };
        }

        return values is not null && values.Any(value => EqualScalars(condition, value));
    }

    private static bool AnythingButExcludes(JsonElement rule, JsonElement value) => rule.ValueKind switch
    {
        JsonValueKind.Array => rule.EnumerateArray().Any(excluded => EqualScalars(excluded, value)),
        JsonValueKind.Object => value.ValueKind == JsonValueKind.String && value.GetString()!.StartsWith(rule.GetProperty("prefix").GetString() ?? "", StringComparison.Ordinal),
        _ => EqualScalars(rule, value),
    };

    private static bool InRange(JsonElement rule, double number)
    {
        var items = rule.EnumerateArray().ToArray();
        for (var i = 0; i < items.Length; i += 2)
        {
            var bound = items[i + 1].GetDouble();
            var holds = items[i].GetString() switch
            {
                "=" => number == bound,
                "<" => number < bound,
                "<=" => number <= bound,
                ">" => number > bound,
                ">=" => number >= bound,
                _ => false,
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    private static bool EqualScalars(JsonElement expected, JsonElement actual) => (expected.ValueKind, actual.ValueKind) switch
    {
        (JsonValueKind.String, JsonValueKind.String) => expected.GetString() == actual.GetString(),
        (JsonValueKind.Number, JsonValueKind.Number) => expected.GetDouble() == actual.GetDouble(),
        (JsonValueKind.Number, JsonValueKind.String) => double.TryParse(actual.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed == expected.GetDouble(),
        (JsonValueKind.Null, JsonValueKind.Null) or (JsonValueKind.True, JsonValueKind.True) or (JsonValueKind.False, JsonValueKind.False) => true,
        _ => false,
    };
}
