using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Blueprint.Telemetry.Otlp;

/// <summary>
/// OTLP/JSON is protobuf's JSON mapping with two exceptions (OTLP specification, "JSON Protobuf Encoding"): trace and
/// span ids are hex strings, not base64, and enums are integers only. This rewrites the ids to base64 so Google.Protobuf's
/// parser reads the rest, and writes responses with the protocol's field names.
/// </summary>
internal static class OtlpJson
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly HashSet<string> IdFields = new(StringComparer.Ordinal) { "traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id" };

    /// <summary>Parses an OTLP/JSON request.</summary>
    /// <exception cref="OtlpFormatException">The body is not JSON of the message, or an id is not hex.</exception>
    public static T Parse<T>(ReadOnlySpan<byte> json)
        where T : IMessage<T>, new()
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new OtlpFormatException($"the body is not JSON: {e.Message}");
        }

        if (root is not JsonObject)
        {
            throw new OtlpFormatException("the body is not a JSON object");
        }

        RewriteIds(root);
        try
        {
            return Parser.Parse<T>(root.ToJsonString());
        }
        catch (InvalidJsonException e)
        {
            throw new OtlpFormatException(e.Message);
        }
    }

    /// <summary>Writes <paramref name="message"/> as OTLP/JSON (no ids appear in responses, so protobuf's mapping is exact).</summary>
    public static string Format(IMessage message) => JsonFormatter.Default.Format(message);

    private static void RewriteIds(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (IdFields.Contains(key) && value is JsonValue id && id.TryGetValue<string>(out var hex))
                    {
                        obj[key] = ToBase64(hex, key);
                    }
                    else if (value is not null)
                    {
                        RewriteIds(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        RewriteIds(item);
                    }
                }

                break;
        }
    }

    private static string ToBase64(string hex, string field)
    {
        try
        {
            return Convert.ToBase64String(Convert.FromHexString(hex));
        }
        catch (FormatException)
        {
            throw new OtlpFormatException($"{field} '{(hex.Length > 40 ? hex[..40] + "…" : hex)}' is not hex (OTLP/JSON writes ids as hex strings)");
        }
    }
}

/// <summary>An OTLP request that cannot be decoded; the message says why.</summary>
internal sealed class OtlpFormatException(string message) : Exception(message);
