using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.S3;

namespace Blueprint.Storage.Tests.Cluster;

/// <summary>
/// Storage nodes as separate processes on loopback (so one can be killed with SIGKILL), each with its own data
/// directory and S3 port and the others as peers; anti-entropy and handoff run every second.
/// </summary>
internal sealed class StorageCluster : IAsyncDisposable
{
    public const string Secret = "cluster-secret-for-tests-0123456789";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(90);

    private readonly TempDirectory[] _data;
    private readonly ProcessRunner?[] _processes;
    private readonly int[] _s3Ports;
    private readonly int[] _httpPorts;
    private readonly int _replicas;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private StorageCluster(int count, int replicas)
    {
        _data = [.. Enumerable.Range(0, count).Select(_ => new TempDirectory())];
        _processes = new ProcessRunner?[count];
        _s3Ports = [.. Enumerable.Range(0, count).Select(_ => FreePorts.Next())];
        _httpPorts = [.. Enumerable.Range(0, count).Select(_ => FreePorts.Next())];
        _replicas = replicas;
    }

    public int Count => _processes.Length;

    public static async Task<StorageCluster> StartAsync(int count, int replicas = 3)
    {
        var cluster = new StorageCluster(count, replicas);
        await Task.WhenAll(Enumerable.Range(1, count).Select(cluster.StartNodeAsync));
        return cluster;
    }

    public string DataDir(int node) => _data[node - 1].Path;

    public string Endpoint(int node) => $"http://127.0.0.1:{_s3Ports[node - 1].ToString(CultureInfo.InvariantCulture)}";

    public AmazonS3Client Client(int node) => S3.S3Node.CreateClient(_s3Ports[node - 1], S3.S3Node.AccessKey, S3.S3Node.SecretKey);

    /// <summary>Starts (or restarts) node <paramref name="node"/> (from 1) and waits until it serves.</summary>
    public async Task StartNodeAsync(int node)
    {
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        var peers = string.Join(',', Enumerable.Range(1, Count).Where(i => i != node).Select(i => $"n{Text(i)}={Endpoint(i)}"));
        var process = NodeProcess.Start(
            [
                "run", "--modules", "storage", "--data-dir", DataDir(node), "--http-port", Text(_httpPorts[node - 1]),
                "--s3-port", Text(_s3Ports[node - 1]), "--storage-node-id", $"n{Text(node)}", "--storage-peers", peers,
                "--storage-cluster-secret", Secret, "--storage-replicas", Text(_replicas),
                "--storage-root-access-key", S3.S3Node.AccessKey, "--storage-root-secret-key", S3.S3Node.SecretKey,
            ],
            DataDir(node),
            new Dictionary<string, string> { ["BLUEPRINT_Storage__AntiEntropySeconds"] = "1", ["BLUEPRINT_Storage__PeerTimeoutSeconds"] = "3", ["BLUEPRINT_Storage__MinPartBytes"] = "1024" });
        _processes[node - 1] = process;
        await process.WaitForLineAsync(line => line.Contains("Press Ctrl-C", StringComparison.Ordinal), StartDeadline);
    }

    /// <summary>Kills node <paramref name="node"/> with SIGKILL, as a crash would.</summary>
    public async Task KillAsync(int node)
    {
        var process = _processes[node - 1] ?? throw new InvalidOperationException($"node {node} is not running");
        process.Kill();
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await process.DisposeAsync();
        _processes[node - 1] = null;
    }

    /// <summary>The version node <paramref name="node"/> keeps of an object in its own store (its replica API), or null.</summary>
    public async Task<string?> LocalETagAsync(int node, string bucket, string key, CancellationToken cancellationToken)
    {
        using var request = Internal(HttpMethod.Head, node, "replica", $"bucket={Uri.EscapeDataString(bucket)}&key={Uri.EscapeDataString(key)}");
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        var record = JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("x-blueprint-record").First()));
        return record.RootElement.GetProperty("Deleted").GetBoolean() ? null : record.RootElement.GetProperty("ETag").GetString();
    }

    /// <summary>The bytes node <paramref name="node"/> serves of its own copy (every block verified), or null when its copy is missing or corrupt.</summary>
    public async Task<byte[]?> LocalBytesAsync(int node, string bucket, string key, CancellationToken cancellationToken)
    {
        using var head = Internal(HttpMethod.Head, node, "replica", $"bucket={Uri.EscapeDataString(bucket)}&key={Uri.EscapeDataString(key)}");
        using var headResponse = await _http.SendAsync(head, cancellationToken);
        if (headResponse.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var record = JsonDocument.Parse(Convert.FromBase64String(headResponse.Headers.GetValues("x-blueprint-record").First())).RootElement;
        var query = string.Create(CultureInfo.InvariantCulture,
            $"bucket={Uri.EscapeDataString(bucket)}&key={Uri.EscapeDataString(key)}&version={record.GetProperty("Version").GetInt64()}&writer={record.GetProperty("Writer").GetString()}&offset=0&count={record.GetProperty("Size").GetInt64()}");
        using var get = Internal(HttpMethod.Get, node, "replica", query);
        try
        {
            using var response = await _http.SendAsync(get, cancellationToken);
            return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null; // cut short: a corrupt block past the first
        }
    }

    /// <summary>Node <paramref name="node"/>'s replication counters.</summary>
    public async Task<JsonElement> StatusAsync(int node, CancellationToken cancellationToken)
    {
        using var request = Internal(HttpMethod.Get, node, "status", "");
        using var response = await _http.SendAsync(request, cancellationToken);
        return await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }

        _http.Dispose();
        foreach (var directory in _data)
        {
            directory.Dispose();
        }
    }

    private HttpRequestMessage Internal(HttpMethod method, int node, string operation, string query)
    {
        var request = new HttpRequestMessage(method, new Uri($"{Endpoint(node)}/_blueprint/{operation}?{query}"));
        request.Headers.Add("x-blueprint-cluster-secret", Secret);
        return request;
    }
}
