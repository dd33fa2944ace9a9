using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Blueprint.Cache;

/// <summary>Registers the <see cref="BlueprintCache"/>.</summary>
public static class BlueprintCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="BlueprintCache"/> as itself and as <see cref="HybridCache"/>, over the multiplexer
    /// <paramref name="connect"/> returns. A module passes its own: <c>(services, token) =>
    /// services.GetRequiredService&lt;IKvConnection&gt;().GetAsync(token)</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="connect">Returns the host's multiplexer to the RESP engine.</param>
    /// <param name="configure">Adjusts the options; they are validated when the cache is first resolved.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddBlueprintCache(
        this IServiceCollection services,
        Func<IServiceProvider, CancellationToken, ValueTask<IConnectionMultiplexer>> connect,
        Action<BlueprintCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(connect);
        var options = services.AddOptions<BlueprintCacheOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(provider => new BlueprintCache(
            token => connect(provider, token),
            provider.GetRequiredService<IOptions<BlueprintCacheOptions>>().Value,
            provider.GetService<TimeProvider>(),
            provider.GetService<ILoggerFactory>()));
        services.AddSingleton<HybridCache>(provider => provider.GetRequiredService<BlueprintCache>());
        return services;
    }
}
