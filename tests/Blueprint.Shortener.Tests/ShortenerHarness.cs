using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Blueprint.Shortener.Access;
using Blueprint.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Shortener.Tests;

/// <summary>A node running the shortener, with a client that does not follow redirects and an API key.</summary>
internal sealed class ShortenerHarness : IAsyncDisposable
{
    private ShortenerHarness(TestNode node, string key)
    {
        Node = node;
        Key = key;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = node.Node.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Add("X-Api-Key", key);
    }

    public TestNode Node { get; }

    public string Key { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => Node.Node.Services;

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    public static async Task<ShortenerHarness> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null, string? dataDir = null, string modules = "kv,sql,shortener")
    {
        var all = new Dictionary<string, string?> { ["Node:Modules"] = modules };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var node = await TestNode.StartAsync(dataDir, all, time is null ? null : services => services.AddSingleton(time), TestContext.Current.CancellationToken);
        var apiKey = await ApiKeys.CreateAsync(node.Node.Services.GetRequiredService<ISqlDatabase>(), TimeProvider.System, TestContext.Current.CancellationToken);
        return new ShortenerHarness(node, apiKey);
    }

    /// <summary>POSTs a link and returns the response.</summary>
    public Task<HttpResponseMessage> PostAsync(object body) =>
        Client.PostAsJsonAsync("/api/links", body, TestContext.Current.CancellationToken);

    /// <summary>Creates a link and returns its code, failing the test unless the answer is 201.</summary>
    public async Task<string> CreateAsync(object body)
    {
        using var response = await PostAsync(body);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("code").GetString()!;
    }

    /// <summary>GETs /{code} without following, returning the status and Location.</summary>
    public async Task<(HttpStatusCode Status, string? Location)> FollowOnceAsync(string code, string? referer = null, string? userAgent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/" + code);
        if (referer is not null)
        {
            request.Headers.Referrer = new Uri(referer);
        }

        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }

        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, response.Headers.Location?.OriginalString);
    }

    /// <summary>Reads a problem+json answer's detail.</summary>
    public static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return json.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString()! : "";
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Node.DisposeAsync();
    }
}
