using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Gateway.Access;

/// <summary>
/// API keys for gateway routes (configuration section <c>Gateway:ApiKeys</c>). Only each key's
/// SHA-256 is configured, never the key: <c>printf %s "$KEY" | sha256sum</c> gives it. A route
/// with <c>"AuthorizationPolicy": "apikey"</c> admits a request whose <see cref="Header"/> holds a
/// listed key; the request's user is the key's <see cref="ApiKey.Name"/> (claim <c>sub</c>).
/// </summary>
public sealed class ApiKeyOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Gateway:ApiKeys";

    /// <summary>The header carrying the key. <value>Default <c>X-Api-Key</c>.</value></summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "must name a header")]
    public string Header { get; set; } = "X-Api-Key";

    /// <summary>The accepted keys, by name and SHA-256.</summary>
    public List<ApiKey> Keys { get; set; } = [];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Keys.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Keys[i].Name) || !names.Add(Keys[i].Name!))
            {
                yield return new ValidationResult("needs a name, unique among the keys", [$"{nameof(Keys)}:{i}:{nameof(ApiKey.Name)}"]);
            }

            if (Keys[i].Sha256 is not { Length: 64 } hash || !hash.All(Uri.IsHexDigit))
            {
                yield return new ValidationResult("must be the key's SHA-256 as 64 hex digits (printf %s \"$KEY\" | sha256sum)",
                    [$"{nameof(Keys)}:{i}:{nameof(ApiKey.Sha256)}"]);
            }
            else if (!hashes.Add(hash))
            {
                yield return new ValidationResult("is listed twice: each key once, under one name", [$"{nameof(Keys)}:{i}:{nameof(ApiKey.Sha256)}"]);
            }
        }
    }
}

/// <summary>One accepted API key.</summary>
public sealed class ApiKey
{
    /// <summary>Who holds the key: the request's user name, for logs and rate limits.</summary>
    public string? Name { get; set; }

    /// <summary>The key's SHA-256, in hex.</summary>
    public string? Sha256 { get; set; }
}

/// <summary>The configured keys by SHA-256 (upper-case hex), built once.</summary>
internal sealed class ApiKeyDirectory(IOptions<ApiKeyOptions> options)
{
    public string Header { get; } = options.Value.Header;

    public Dictionary<string, string> NamesByHash { get; } = options.Value.Keys.ToDictionary(
        key => key.Sha256!.ToUpperInvariant(), key => key.Name!, StringComparer.Ordinal);
}

/// <summary>Authenticates a request by its API key header: hashed, then looked up, so no key is compared in variable time.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder, ApiKeyDirectory keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    /// <summary>The scheme's name, and the authorization policy routes name.</summary>
    public const string SchemeName = "apikey";

    /// <summary>The longest key header read: a longer one is refused unhashed.</summary>
    private const int KeyLengthMax = 256;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[keys.Header].ToString();
        if (presented.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (presented.Length > KeyLengthMax
            || !keys.NamesByHash.TryGetValue(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(presented))), out var name))
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        }

        var identity = new ClaimsIdentity([new Claim("sub", name)], SchemeName, "sub", ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

/// <summary>
/// The default scheme of a node whose routes name their own: it authenticates nothing. Without it,
/// ASP.NET Core makes a lone scheme (JWT or API keys) the default, and the authentication middleware
/// would run it on every request of every module (hashing the shortener's API keys, parsing its
/// bearer keys as JWTs); routes' policies name their schemes, so no request needs a default.
/// </summary>
internal sealed class NoAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "none";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
}
