using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Blueprint.Hosting;

/// <summary>
/// Validates an options class by its data annotations and <see cref="IValidatableObject"/>, and
/// words every failure as <c>Section:Key = 'value': what is allowed</c>, so that one start-up
/// reports every problem at once and each line says how to fix it.
/// </summary>
/// <typeparam name="TOptions">The options class.</typeparam>
/// <param name="section">The configuration section the class binds to.</param>
public sealed class AnnotatedOptionsValidator<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(string section)
    : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        var context = new ValidationContext(options);
        if (Validator.TryValidateObject(options, context, results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        foreach (var result in results)
        {
            var members = result.MemberNames.Any() ? result.MemberNames : [""];
            foreach (var member in members)
            {
                failures.Add(Describe(options, member, result.ErrorMessage ?? "is not valid"));
            }
        }

        return ValidateOptionsResult.Fail(failures);
    }

    private string Describe(TOptions options, string member, string message)
    {
        if (member.Length == 0)
        {
            return $"{section}: {message}";
        }

        var property = typeof(TOptions).GetProperty(member, BindingFlags.Public | BindingFlags.Instance);
        var value = Convert.ToString(property?.GetValue(options), CultureInfo.InvariantCulture) ?? "";
        return $"{section}:{member} = '{value}': {message}";
    }
}
