using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Blueprint.Gateway.Access;
using Blueprint.Gateway.Forward;
using Blueprint.Gateway.LoadBalancing;
using Blueprint.Gateway.Resilience;
using Blueprint.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace Blueprint.Gateway;

/// <summary>
/// The gateway module: YARP's reverse proxy with routes and clusters in YARP's own configuration
/// shape under <c>Gateway:ReverseProxy</c> (reloaded when the configuration changes), plus
/// Blueprint's load-balancing policies (<c>ConsistentHash</c>, <c>WeightedRoundRobin</c>) beside
/// YARP's (<c>RoundRobin</c>, <c>LeastRequests</c>, <c>PowerOfTwoChoices</c>, <c>Random</c>,
/// <c>FirstAlphabetical</c>) and YARP's active and passive health checks.
/// </summary>
public sealed class GatewayModule : IBlueprintModule
{
    /// <summary>Where the proxy configuration lives.</summary>
    public const string ProxySection = "Gateway:ReverseProxy";

    /// <inheritdoc />
    public string Name => "gateway";

    /// <inheritdoc />
    public string Description => "Reverse proxy and API gateway on YARP: routes, clusters, load balancing (incl. consistent hashing and weights), active and passive health checks.";

    /// <inheritdoc />
    public IReadOnlyList<string> CheatSheetRows { get; } = ["Load Balancing", "Proxy vs Reverse Proxy", "API Gateway"];

    /// <summary>TLS with HTTP/1.1 and HTTP/2 by ALPN, when <c>Gateway:HttpsPort</c> is set.</summary>
    public static readonly ModuleListener HttpsListener = new()
    {
        Name = "HTTPS (gateway)",
        ConfigKey = $"{GatewayOptions.Section}:{nameof(GatewayOptions.HttpsPort)}",
        DefaultPort = 0,
        OffWhenZero = true,
        Protocol = ListenerProtocol.Tls,
        Scheme = "https",
        Certificate = LoadCertificate,
    };

    /// <summary>Cleartext HTTP/2 (prior knowledge; gRPC without TLS), when <c>Gateway:H2cPort</c> is set.</summary>
    public static readonly ModuleListener H2cListener = new()
    {
        Name = "HTTP/2 cleartext (gateway)",
        ConfigKey = $"{GatewayOptions.Section}:{nameof(GatewayOptions.H2cPort)}",
        DefaultPort = 0,
        OffWhenZero = true,
        Protocol = ListenerProtocol.H2c,
    };

    /// <inheritdoc />
    public IReadOnlyList<ModuleListener> Listeners { get; } = [HttpsListener, H2cListener, ForwardProxy.Listener];

    private static X509Certificate2 LoadCertificate(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var directory = services.GetRequiredService<DataDirectory>().For("gateway");
        try
        {
            return Certificates.Load(options.Certificate, directory);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new StartupProblemException($"Gateway:Certificate: the TLS certificate cannot be loaded ({e.Message})", e);
        }
    }

    /// <inheritdoc />
    public void AddServices(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<GatewayOptions>(GatewayOptions.Section);
        builder.Services.AddValidatedOptions<ResilienceOptions>(ResilienceSection);
        builder.Services.AddValidatedOptions<ApiKeyOptions>(ApiKeyOptions.Section);
        builder.Services.AddReverseProxy().LoadFromConfig(ProxyConfiguration(builder.Configuration)).AddConfigFilter<GatewayConfigFilter>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CircuitBreakers>();
        builder.Services.AddSingleton<ProxyResilience>();

        // Routes' Timeout / TimeoutPolicy, CorsPolicy and AuthorizationPolicy need their middleware:
        // the node places it after routing, in order (see PipelineOptions).
        builder.Services.AddRequestTimeouts();
        builder.Services.Configure<PipelineOptions>(pipeline => pipeline.RequestTimeouts = true);
        AddCors(builder);
        AddJwt(builder);
        AddApiKeys(builder);

        builder.Services.AddSingleton<ILoadBalancingPolicy, ConsistentHashPolicy>();
        builder.Services.AddSingleton<ILoadBalancingPolicy, WeightedRoundRobinPolicy>();
        ForwardProxy.AddServices(builder);
    }

    /// <inheritdoc />
    public void UseFrontMiddleware(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        ForwardProxy.UseFrontMiddleware(app);
        if (app.ApplicationServices.GetRequiredService<IConfiguration>().GetValue($"{GatewayOptions.Section}:{nameof(GatewayOptions.AccessLog)}", true))
        {
            AccessLog.Use(app);
        }
    }

    /// <summary>The authorization policy a route names to require a valid bearer token.</summary>
    public const string JwtPolicy = "jwt";

    /// <summary>The authorization policy a route names to require one of <c>Gateway:ApiKeys</c>.</summary>
    public const string ApiKeyPolicy = ApiKeyAuthenticationHandler.SchemeName;

    /// <summary>Where retries and circuit breakers are configured.</summary>
    public const string ResilienceSection = "Gateway:Resilience";

    private static void AddCors(IHostApplicationBuilder builder)
    {
        var policies = builder.Configuration.GetSection($"{GatewayOptions.Section}:{nameof(GatewayOptions.Cors)}").Get<Dictionary<string, CorsPolicySettings>>() ?? [];
        builder.Services.AddCors(cors =>
        {
            // A policy with problems is left out here: the options validation reports them all at start.
            foreach (var (name, settings) in policies.Where(policy => !policy.Value.Problems().Any()))
            {
                cors.AddPolicy(name, policy =>
                {
                    _ = settings.Origins.Contains("*") ? policy.AllowAnyOrigin() : policy.WithOrigins([.. settings.Origins]);
                    _ = settings.Methods.Count == 0 ? policy.AllowAnyMethod() : policy.WithMethods([.. settings.Methods]);
                    _ = settings.Headers.Count == 0 ? policy.AllowAnyHeader() : policy.WithHeaders([.. settings.Headers]);
                    policy.WithExposedHeaders([.. settings.ExposedHeaders]).SetPreflightMaxAge(TimeSpan.FromSeconds(settings.MaxAgeSeconds));
                    if (settings.AllowCredentials)
                    {
                        policy.AllowCredentials();
                    }
                });
            }
        });
    }

    /// <summary>Authentication with a default scheme that authenticates nothing (see <see cref="NoAuthenticationHandler"/>), once.</summary>
    private static AuthenticationBuilder AddAuthentication(IHostApplicationBuilder builder)
    {
        var authentication = builder.Services.AddAuthentication(NoAuthenticationHandler.SchemeName);
        if (!builder.Services.Any(service => service.ServiceType == typeof(NoAuthenticationHandler)))
        {
            authentication.AddScheme<AuthenticationSchemeOptions, NoAuthenticationHandler>(NoAuthenticationHandler.SchemeName, null);
        }

        return authentication;
    }

    /// <summary>API keys when <c>Gateway:ApiKeys:Keys</c> lists any: routes with <c>"AuthorizationPolicy": "apikey"</c> then need one.</summary>
    private static void AddApiKeys(IHostApplicationBuilder builder)
    {
        if (!builder.Configuration.GetSection($"{ApiKeyOptions.Section}:{nameof(ApiKeyOptions.Keys)}").GetChildren().Any())
        {
            return;
        }

        builder.Services.AddSingleton<ApiKeyDirectory>();
        AddAuthentication(builder).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(ApiKeyPolicy, policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser());
    }

    /// <summary>
    /// JWT bearer validation when <c>Gateway:Jwt:Issuer</c> is set: a route with
    /// <c>"AuthorizationPolicy": "jwt"</c> then admits only requests with a token from that issuer, for
    /// that audience, signed by one of the keys and not expired; others get 401.
    /// </summary>
    private static void AddJwt(IHostApplicationBuilder builder)
    {
        var jwt = builder.Configuration.GetSection($"{GatewayOptions.Section}:{nameof(GatewayOptions.Jwt)}").Get<JwtOptions>() ?? new JwtOptions();
        if (!jwt.IsEnabled)
        {
            return;
        }

        var keys = new List<SecurityKey>();
        foreach (var text in jwt.SigningKeys)
        {
            if (JwtOptions.TryParseKey(text, out var key) is null)
            {
                keys.Add(key!);
            }
        }

        AddAuthentication(builder).AddJwtBearer(JwtPolicy, bearer =>
        {
            bearer.MapInboundClaims = false;
            bearer.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                IssuerSigningKeys = keys,
                ValidateIssuerSigningKey = true,
                // Only the algorithms of the configured keys: a token cannot choose a weaker one (or "none").
                ValidAlgorithms = ValidAlgorithms(keys),
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds),
            };
        });
        builder.Services.AddAuthorizationBuilder().AddPolicy(JwtPolicy, policy => policy.AddAuthenticationSchemes(JwtPolicy).RequireAuthenticatedUser());
    }

    private static string[] ValidAlgorithms(IEnumerable<SecurityKey> keys) =>
        keys.SelectMany(key => key switch
        {
            SymmetricSecurityKey => new[] { SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512 },
            RsaSecurityKey => [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512],
            ECDsaSecurityKey => [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512],
            _ => [],
        }).Distinct().ToArray();

    /// <summary>
    /// Where routes and clusters come from: the file named by <c>Gateway:ConfigFile</c> (YARP's shape,
    /// <c>{"Routes": …, "Clusters": …}</c>), reloaded when it changes — an edit YARP finds invalid is
    /// logged and the last good configuration stays — or else the <c>Gateway:ReverseProxy</c> section.
    /// </summary>
    private static IConfiguration ProxyConfiguration(IConfiguration configuration)
    {
        var file = configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.ConfigFile)}"];
        if (string.IsNullOrWhiteSpace(file))
        {
            return configuration.GetSection(ProxySection);
        }

        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            throw new StartupProblemException($"{ConfigFileKey} = '{file}': no such file ({path})");
        }

        return new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: true).Build();
    }

    /// <summary>The key naming a proxy configuration file.</summary>
    public const string ConfigFileKey = "Gateway:ConfigFile";

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        try
        {
            var resilience = endpoints.ServiceProvider.GetRequiredService<ProxyResilience>();
            endpoints.MapReverseProxy(proxy =>
            {
                // YARP's default steps, with Blueprint's retries before the choice and circuit breakers after it.
                proxy.Use(RefuseOversizedBody);
                proxy.Use(resilience.RetryAsync);
                proxy.UseSessionAffinity();
                proxy.UseLoadBalancing();
                proxy.Use(resilience.BreakAsync);
                proxy.UsePassiveHealthChecks();
            });
        }
        catch (InvalidOperationException e) when (e.InnerException is AggregateException errors)
        {
            // YARP validates the whole configuration and collects every error: report them all, plainly.
            throw new StartupProblemException(
                $"{ProxySection} is invalid: {string.Join("; ", errors.InnerExceptions.Select(Describe))}", e);
        }
    }

    /// <summary>A configuration error with its cause: YARP wraps a config filter's reason in its own message.</summary>
    private static string Describe(Exception error) =>
        error.InnerException is { } cause && error.Message.Contains("configuration callbacks", StringComparison.Ordinal)
            ? cause.Message
            : error.Message;

    /// <summary>
    /// Refuses a request whose declared length is over the route's <c>MaxRequestBodySize</c> before any
    /// destination is contacted; a chunked body over the limit is cut off by the server while streaming.
    /// </summary>
    private static Task RefuseOversizedBody(HttpContext context, Func<Task> next)
    {
        // The route's own limit (-1 for none), else the server's.
        var limit = context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize is { } routeLimit
            ? (routeLimit < 0 ? null : routeLimit)
            : context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (context.Request.ContentLength is { } length && length > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Task.CompletedTask;
        }

        return next();
    }

    /// <inheritdoc />
    public IEnumerable<ModuleEndpoint> DescribeEndpoints(IServiceProvider services)
    {
        var config = services.GetRequiredService<IProxyConfigProvider>().GetConfig();
        yield return new ModuleEndpoint("Reverse proxy", $"{config.Routes.Count} routes, {config.Clusters.Count} clusters",
            config.Routes.Count == 0 ? $"configure {ProxySection}:Routes and :Clusters (YARP's shape)" : "");
    }
}
