using Blueprint.Core.RateLimiting.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify.Limits;

/// <summary>
/// Refuses notify's rate limits on a node without the ratelimit module: the limits are decided by the store that module
/// registers (<see cref="IRateLimitStore"/> on the KV), and a limit that silently did nothing would be worse than none.
/// Without limits configured, notify needs nothing more than the log.
/// </summary>
internal sealed class RateLimitRequirement(IServiceProviderIsService services) : IValidateOptions<NotifyOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, NotifyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (services.IsService(typeof(IRateLimitStore)))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = options.ConfiguredLimits()
            .Select(limit => $"{NotifyOptions.Section}:{limit.Name} = '{limit.Value}': needs the ratelimit module, which decides notify's limits on the KV; add kv and ratelimit to --modules")
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
