using System.ComponentModel.DataAnnotations;

namespace Blueprint.Sql;

/// <summary>Options of the sql module (configuration section <c>Sql</c>).</summary>
public sealed class SqlOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Sql";

    /// <summary>The engine. <value><c>sqlite</c> (default, a file in the data directory) or <c>postgres</c>.</value></summary>
    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "must be 'sqlite' or 'postgres'")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>
    /// The connection string. Required for <c>postgres</c> (an Npgsql connection string); for
    /// <c>sqlite</c> it overrides the default file <c>&lt;data-dir&gt;/sql/blueprint.db</c>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long one command may run. <value>1–600 seconds; default 30.</value></summary>
    [Range(1, 600, ErrorMessage = "must be from 1 to 600 seconds")]
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>Whether the provider is PostgreSQL.</summary>
    public bool IsPostgres => Provider == "postgres";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IsPostgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "must be set when Sql:Provider is 'postgres', e.g. Host=127.0.0.1;Username=blueprint;Database=blueprint",
                [nameof(ConnectionString)]);
        }
    }
}
