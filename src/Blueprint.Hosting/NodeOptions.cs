using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Blueprint.Hosting;

/// <summary>Options of the node itself (configuration section <c>Node</c>).</summary>
public sealed class NodeOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Node";

    /// <summary>Where every module keeps its files. <value>Default <c>./.blueprint</c>; flag <c>--data-dir</c>.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a directory")]
    public string DataDir { get; set; } = "./.blueprint";

    /// <summary>The address every listener binds. <value>An IP address; default 127.0.0.1; flag <c>--bind</c>.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must be an IP address such as 127.0.0.1")]
    public string Bind { get; set; } = "127.0.0.1";

    /// <summary>The HTTP port. <value>1–65535, or 0 for any free port; default 8080; flag <c>--http-port</c>.</value></summary>
    [Range(0, 65535, ErrorMessage = "must be a port from 1 to 65535 (0 picks a free one)")]
    public int HttpPort { get; set; } = 8080;

    /// <summary>The modules to run, comma-separated. <value>Empty means all; flag <c>--modules</c>.</value></summary>
    public string Modules { get; set; } = "";

    /// <summary>How logs are written. <value><c>text</c> (default) or <c>json</c>; flag <c>--log-format</c>.</value></summary>
    [RegularExpression("^(text|json)$", ErrorMessage = "must be 'text' or 'json'")]
    public string LogFormat { get; set; } = "text";

    /// <summary>How long a graceful stop may take before it is cut short. <value>1–300 seconds; default 10.</value></summary>
    [Range(1, 300, ErrorMessage = "must be from 1 to 300 seconds")]
    public int ShutdownTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Where the dashboard reads lab results (<c>&lt;name&gt;.md</c>, <c>.json</c> and <c>.png</c>, as <c>blueprint lab</c> writes them).
    /// <value>A directory, relative to the working directory unless absolute; default <c>lab-results</c>, where <c>blueprint lab</c> writes.</value>
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a directory")]
    public string LabResultsDir { get; set; } = "lab-results";

    /// <summary>The bind address, parsed.</summary>
    public IPAddress BindAddress => IPAddress.TryParse(Bind, out var address) ? address : IPAddress.Loopback;

    /// <summary>
    /// The host a client on this machine uses to reach a listener on <see cref="Bind"/>: the loopback address for a
    /// wildcard bind, the address itself otherwise (IPv6 in brackets), ready for a URL or <c>host:port</c>.
    /// </summary>
    public string ClientHost => ClientHostFor(Bind);

    /// <summary>The host a local client uses to reach a listener bound to <paramref name="bind"/> (see <see cref="ClientHost"/>).</summary>
    public static string ClientHostFor(string bind)
    {
        ArgumentNullException.ThrowIfNull(bind);
        return bind switch
        {
            "0.0.0.0" => "127.0.0.1",
            "::" => "[::1]",
            _ when bind.Contains(':', StringComparison.Ordinal) => $"[{bind}]",
            _ => bind,
        };
    }

    /// <summary>The module names asked for, lower-cased; empty means all.</summary>
    public IReadOnlyList<string> ModuleNames =>
        Modules.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => name.ToLowerInvariant())
            .ToArray();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Bind) && !IPAddress.TryParse(Bind, out _))
        {
            yield return new ValidationResult("must be an IP address such as 127.0.0.1 or 0.0.0.0", [nameof(Bind)]);
        }
    }
}
