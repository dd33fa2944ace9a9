using System.ComponentModel.DataAnnotations;

namespace Blueprint.Hosting;

/// <summary>OpenTelemetry export (configuration section <c>Otel</c>).</summary>
public sealed class OtelOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Otel";

    /// <summary>An OTLP/gRPC collector to export traces and metrics to. <value>An absolute http(s) URL; empty (default) exports nothing.</value></summary>
    public string? Endpoint { get; set; }

    /// <summary>
    /// The node's service name in its spans and metrics (<c>service.name</c>). <value>Default <c>blueprint</c>.</value> Give
    /// nodes with different roles different names (an edge gateway, an app node) to see them apart in a trace and as
    /// separate services in the dependency graph.
    /// </summary>
    [RegularExpression(@"^[A-Za-z0-9][A-Za-z0-9._\-]{0,62}$", ErrorMessage = "must be 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit")]
    public string ServiceName { get; set; } = ServiceDefaults.ServiceName;

    /// <summary>
    /// The share of new traces the node samples; a caller's decision (the sampled flag of its
    /// <c>traceparent</c>) is always followed. <value>0–1; default 1.</value> It stays 1 even without an
    /// <see cref="Endpoint"/>: a node that starts a trace decides for every service behind it, which
    /// may export even when this node does not. Lower it to trade traces for the cost of recording spans.
    /// </summary>
    [Range(0.0, 1.0, ErrorMessage = "must be from 0 to 1")]
    public double TraceSampleRatio { get; set; } = 1;

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
