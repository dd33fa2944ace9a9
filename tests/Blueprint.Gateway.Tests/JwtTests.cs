using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Blueprint.Gateway.Tests;

/// <summary>JWT bearer validation on a route: issuer, audience, signature and lifetime.</summary>
public sealed class JwtTests
{
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task A_route_with_the_jwt_policy_admits_only_valid_tokens()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:Jwt:Issuer"] = "https://issuer.example",
            ["Gateway:Jwt:Audience"] = "orders",
            ["Gateway:Jwt:SigningKeys:0"] = Convert.ToBase64String(Secret),
            ["Gateway:ReverseProxy:Routes:secure:ClusterId"] = "backends",
            ["Gateway:ReverseProxy:Routes:secure:AuthorizationPolicy"] = "jwt",
            ["Gateway:ReverseProxy:Routes:secure:Match:Path"] = "/secure/{**rest}",
            ["Gateway:ReverseProxy:Routes:open:ClusterId"] = "backends",
            ["Gateway:ReverseProxy:Routes:open:Match:Path"] = "/open/{**rest}",
            ["Gateway:ReverseProxy:Clusters:backends:Destinations:b0:Address"] = backends.Addresses[0],
        }, cancellationToken: TestContext.Current.CancellationToken);

        var now = DateTime.UtcNow;
        var cases = new (string Name, string? Token, HttpStatusCode Expected)[]
        {
            ("valid", Token("https://issuer.example", "orders", Secret, now.AddMinutes(5)), HttpStatusCode.OK),
            ("no token", null, HttpStatusCode.Unauthorized),
            ("wrong issuer", Token("https://evil.example", "orders", Secret, now.AddMinutes(5)), HttpStatusCode.Unauthorized),
            ("wrong audience", Token("https://issuer.example", "billing", Secret, now.AddMinutes(5)), HttpStatusCode.Unauthorized),
            ("wrong key", Token("https://issuer.example", "orders", RandomNumberGenerator.GetBytes(32), now.AddMinutes(5)), HttpStatusCode.Unauthorized),
            ("expired", Token("https://issuer.example", "orders", Secret, now.AddMinutes(-5)), HttpStatusCode.Unauthorized),
            ("garbage", "not.a.token", HttpStatusCode.Unauthorized),
        };
        foreach (var (name, token, expected) in cases)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/secure/data");
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == expected, $"{name}: {(int)response.StatusCode}");
            if (expected == HttpStatusCode.OK)
            {
                Assert.Equal("b0 GET /secure/data", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            }
        }

        using var open = await gateway.Http.GetAsync("/open/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("ecdsa")]
    public async Task PEM_public_keys_verify_asymmetric_tokens(string kind)
    {
        using var rsa = RSA.Create(2048);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (pem, credentials) = kind == "rsa"
            ? (rsa.ExportSubjectPublicKeyInfoPem(), new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256))
            : (ecdsa.ExportSubjectPublicKeyInfoPem(), new SigningCredentials(new ECDsaSecurityKey(ecdsa), SecurityAlgorithms.EcdsaSha256));
        await using var backends = await Backends.StartAsync(1);
        await using var gateway = await TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:Jwt:Issuer"] = "https://issuer.example",
            ["Gateway:Jwt:Audience"] = "orders",
            ["Gateway:Jwt:SigningKeys:0"] = pem,
            ["Gateway:ReverseProxy:Routes:secure:ClusterId"] = "backends",
            ["Gateway:ReverseProxy:Routes:secure:AuthorizationPolicy"] = "jwt",
            ["Gateway:ReverseProxy:Routes:secure:Match:Path"] = "/secure/{**rest}",
            ["Gateway:ReverseProxy:Clusters:backends:Destinations:b0:Address"] = backends.Addresses[0],
        }, cancellationToken: TestContext.Current.CancellationToken);
        var now = DateTime.UtcNow;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://issuer.example",
            Audience = "orders",
            Subject = new ClaimsIdentity([new Claim("sub", "user-1")]),
            NotBefore = now.AddMinutes(-1),
            IssuedAt = now.AddMinutes(-1),
            Expires = now.AddMinutes(5),
            SigningCredentials = credentials,
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/secure/x");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/secure/x");
        forged.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token("https://issuer.example", "orders", Secret, now.AddMinutes(5)));
        using var rejected = await gateway.Http.SendAsync(forged, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
    }

    [Fact]
    public async Task A_weak_or_unreadable_key_stops_the_start_with_the_reason()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestNode.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Node:Modules"] = "gateway",
            ["Gateway:Jwt:Issuer"] = "https://issuer.example",
            ["Gateway:Jwt:SigningKeys:0"] = Convert.ToBase64String(new byte[8]),
            ["Gateway:Jwt:SigningKeys:1"] = "%%%",
            ["Gateway:Jwt:ClockSkewSeconds"] = "-5",
        }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains(error.Failures, failure => failure.Contains("Jwt:Audience", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("at least 32 bytes", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("neither base64", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("Jwt:ClockSkewSeconds", StringComparison.Ordinal));
    }

    private static string Token(string issuer, string audience, byte[] key, DateTime expires) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = audience,
        Subject = new ClaimsIdentity([new Claim("sub", "user-1")]),
        NotBefore = expires.AddMinutes(-10),
        IssuedAt = expires.AddMinutes(-10),
        Expires = expires,
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
    });
}
