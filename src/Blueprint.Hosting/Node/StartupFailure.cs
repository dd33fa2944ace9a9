using Microsoft.Extensions.Options;

namespace Blueprint.Hosting;

/// <summary>
/// Turns the ways a start can fail on bad configuration or environment into the lines the CLI
/// prints before it exits with code 2. Anything else is a bug and is left to crash loudly.
/// </summary>
public static class StartupFailure
{
    /// <summary>The exit code for bad input: configuration, flags or environment.</summary>
    public const int ExitCode = 2;

    /// <summary>The lines describing <paramref name="exception"/>, or null when it is not a configuration or environment problem.</summary>
    /// <param name="exception">What the start threw.</param>
    /// <param name="catalog">The catalog whose flags are named beside the keys they set; null names keys only.</param>
    public static IReadOnlyList<string>? Describe(Exception exception, ModuleCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var lines = new List<string>();
        foreach (var inner in Flatten(exception))
        {
            switch (inner)
            {
                case OptionsValidationException validation:
                    lines.AddRange(validation.Failures.Select(failure => WithFlag(failure, catalog)));
                    break;
                case StartupProblemException problem:
                    lines.Add(problem.Message);
                    break;
                case InvalidOperationException conversion when conversion.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                    lines.Add(conversion.Message);
                    break;
                default:
                    return null;
            }
        }

        return lines.Count == 0 ? null : lines;
    }

    private static IEnumerable<Exception> Flatten(Exception exception) => exception switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Flatten),
        _ => [exception],
    };

    private static string WithFlag(string failure, ModuleCatalog? catalog)
    {
        var key = failure.Split(' ', 2)[0];
        return catalog is not null && catalog.FlagByKey.TryGetValue(key, out var flag) ? $"{failure} (flag {flag})" : failure;
    }
}
