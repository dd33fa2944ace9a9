using System.ComponentModel.DataAnnotations;

namespace Blueprint.Hosting;

/// <summary>OpenTelemetry export (configuration section <c>Otel</c>).</summary>
public sealed class OtelOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Otel";

    /// <summary>An OTLP/gRPC collector to export traces and metrics to. <value>An absolute http(s) URL; empty (default) exports nothing.</value></summary>
    public string? Endpoint { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Endpoint)
            && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
        {
            yield return new ValidationResult("must be an absolute http(s) URL such as http://127.0.0.1:4317", [nameof(Endpoint)]);
        }
    }
}
