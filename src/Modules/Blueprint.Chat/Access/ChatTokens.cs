using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Blueprint.Chat.Access;

/// <summary>
/// JSON Web Tokens in place of API keys, when <see cref="ChatOptions.JwtSecret"/> is set: HS256 only (a token cannot pick
/// another algorithm, or none), an expiry required, the issuer and audience checked when configured. The application
/// that signs them vouches for the user: <c>sub</c> is the chat user's name.
/// </summary>
internal sealed class ChatTokens
{
    /// <summary>The longest string tried as a token.</summary>
    private const int LengthMax = 8192;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters? _parameters;

    public ChatTokens(IOptions<ChatOptions> options)
    {
        var settings = options.Value;
        if (settings.JwtKey is { } key)
        {
            _parameters = new TokenValidationParameters
            {
                IssuerSigningKey = new SymmetricSecurityKey(key),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                ValidateIssuer = settings.JwtIssuer.Length > 0,
                ValidIssuer = settings.JwtIssuer,
                ValidateAudience = settings.JwtAudience.Length > 0,
                ValidAudience = settings.JwtAudience,
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.FromSeconds(30),
            };
        }
    }

    /// <summary>The <c>sub</c> of a valid token, or null (tokens off, or the token is not valid).</summary>
    public async Task<string?> SubjectAsync(string token)
    {
        if (_parameters is null || token.Length > LengthMax)
        {
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        return result.IsValid && result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var subject) ? subject as string : null;
    }
}
