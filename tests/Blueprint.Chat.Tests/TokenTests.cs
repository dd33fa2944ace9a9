using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Blueprint.Chat.Tests;

/// <summary>JSON Web Tokens in place of API keys: HS256 with the configured secret, an expiry, the issuer; the subject becomes the user.</summary>
public sealed class TokenTests
{
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    private static string Token(string subject, byte[]? secret = null, string issuer = "the-app", DateTime? expires = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = subject },
            Issuer = issuer,
            IssuedAt = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret ?? Secret), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    [Fact]
    public async Task AValidToken_NamesTheUser_CreatedOnFirstSight_OverHttpAndWebSocket()
    {
        await using var node = await TestNode.StartAsync(
            settings: new Dictionary<string, string?> { ["Chat:JwtSecret"] = Convert.ToBase64String(Secret), ["Chat:JwtIssuer"] = "the-app" },
            cancellationToken: ChatKit.Token);
        var token = Token("dave");

        var (status, me) = await node.CallAsync(HttpMethod.Get, "/api/chat/me", token);
        var again = await node.CallAsync(HttpMethod.Get, "/api/chat/me", Token("dave"));
        await using var client = await ChatClient.ConnectAsync(node, key: null);
        await client.SendAsync(new { type = "auth", token });
        var ready = await client.NextAsync();

        Assert.Equal((200, "dave"), (status, me.Str("name")));
        Assert.Equal(me.Str("id"), again.Body.Str("id"));
        Assert.Equal(("ready", "dave"), (ready.Type(), ready.Str("user")));
    }

    [Fact]
    public async Task BadTokens_AreRefused()
    {
        await using var node = await TestNode.StartAsync(
            settings: new Dictionary<string, string?> { ["Chat:JwtSecret"] = Convert.ToBase64String(Secret), ["Chat:JwtIssuer"] = "the-app" },
            cancellationToken: ChatKit.Token);
        var unsigned = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = "eve" },
            Issuer = "the-app",
            Expires = DateTime.UtcNow.AddMinutes(5),
        });

        string[] refused =
        [
            Token("eve", secret: RandomNumberGenerator.GetBytes(32)),
            Token("eve", issuer: "someone-else"),
            Token("eve", expires: DateTime.UtcNow.AddHours(-1)),
            unsigned,
            Token("not a name"),
        ];
        var statuses = new List<int>();
        foreach (var token in refused)
        {
            statuses.Add((await node.CallAsync(HttpMethod.Get, "/api/chat/me", token)).Status);
        }

        Assert.All(statuses, status => Assert.Equal(401, status));
    }

    [Fact]
    public async Task WithoutASecret_TokensAreNotAccepted()
    {
        await using var node = await TestNode.StartAsync(cancellationToken: ChatKit.Token);

        Assert.Equal(401, (await node.CallAsync(HttpMethod.Get, "/api/chat/me", Token("dave"))).Status);
    }
}
