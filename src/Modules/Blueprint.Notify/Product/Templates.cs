using System.Text.Json;
using Blueprint.Notify.State;
using Fluid;

namespace Blueprint.Notify.Product;

/// <summary>Liquid templates (Fluid): checked when stored, rendered per user with <c>user.*</c> (the user's id and data) and <c>data.*</c> (the send's payload).</summary>
public static class Templates
{
    private static readonly FluidParser Parser = new();

    /// <summary>The channels a template may have a body for.</summary>
    public static readonly IReadOnlyList<string> Channels = ["default", "email", "inbox", "webhook", "mqtt"];

    /// <summary>Why a template cannot be stored, or null.</summary>
    public static string? Check(TemplateRecord template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.Bodies.Count == 0)
        {
            return "a template needs at least one body (default, email, inbox, webhook or mqtt)";
        }

        if (template.Bodies.Keys.FirstOrDefault(channel => !Channels.Contains(channel)) is { } unknown)
        {
            return $"unknown channel '{unknown}' (bodies are for {string.Join(", ", Channels)})";
        }

        foreach (var (part, text) in template.Bodies.Select(pair => (pair.Key, pair.Value)).Prepend(("subject", template.Subject ?? "")))
        {
            if (!Parser.TryParse(text, out _, out var error))
            {
                return $"the {part} template does not parse: {error}";
            }
        }

        return null;
    }

    /// <summary>Renders one text for a user and a payload.</summary>
    public static string Render(string text, UserRecord user, JsonElement data)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!Parser.TryParse(text, out var template, out var error))
        {
            throw new InvalidOperationException($"the template does not parse: {error}");
        }

        var context = new TemplateContext();
        var userValues = new Dictionary<string, object?>(StringComparer.Ordinal) { ["id"] = user.Id };
        foreach (var (key, value) in user.Data)
        {
            userValues[key] = value;
        }

        context.SetValue("user", userValues);
        context.SetValue("data", ToObject(data) ?? new Dictionary<string, object?>());
        return template.Render(context);
    }

    /// <summary>A JSON payload as dictionaries, lists and scalars Liquid can read.</summary>
    private static object? ToObject(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(property => property.Name, property => ToObject(property.Value), StringComparer.Ordinal),
        JsonValueKind.Array => element.EnumerateArray().Select(ToObject).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var whole) ? whole : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
