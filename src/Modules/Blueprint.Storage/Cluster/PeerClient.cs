using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Blueprint.Storage.Local;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage.Cluster;

/// <summary>
/// Calls to the other storage nodes' replica API (<see cref="ReplicaApi"/>, under <c>/_blueprint/</c> on their S3 port):
/// every call carries the cluster secret and has a deadline, and a node that does not answer in time, refuses the
/// connection or fails counts as down for that call (<see cref="PeerUnavailableException"/>).
/// </summary>
internal sealed class PeerClient : IDisposable
{
    public const string SecretHeader = "x-blueprint-cluster-secret";
    public const string RecordHeader = "x-blueprint-record";
    public const string HintHeader = "x-blueprint-hint-for";
    public const string RepairHeader = "x-blueprint-repair";

    private readonly StorageTopology _topology;
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public PeerClient(StorageTopology topology, IOptions<StorageOptions> options)
    {
        _topology = topology;
        _timeout = TimeSpan.FromSeconds(options.Value.PeerTimeoutSeconds);
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(2, options.Value.PeerTimeoutSeconds)),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = 64,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// Sends an object version (its bytes from <paramref name="body"/>) to <paramref name="node"/>, which applies it if it
    /// is newer, or keeps it as a hint for <paramref name="hintFor"/>. Returns whether the node applied it (false: it had newer).
    /// </summary>
    /// <remarks>With <c>repair</c>, the node replaces its copy even when it is the same version (it was found corrupt).</remarks>
    public async Task<bool> SendAsync(string node, ObjectRecord record, Stream? body, string? hintFor, CancellationToken cancellationToken, bool repair = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Url(node, "replica", record.Bucket, record.Key));
        request.Headers.Add(RecordHeader, RecordWire.Encode(record));
        if (repair)
        {
            request.Headers.Add(RepairHeader, "1");
        }

        if (hintFor is not null)
        {
            request.Headers.Add(HintHeader, hintFor);
        }

        request.Content = body is null ? new ByteArrayContent([]) : new StreamContent(body, 64 * 1024);
        request.Content.Headers.ContentLength = record.Deleted ? 0 : record.Size;
        // A body gets time by its size (at 1 MB/s at worst) on top of the call's deadline.
        using var response = await SendAsync(node, request, _timeout + TimeSpan.FromSeconds(record.Size / 1_000_000.0), cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim() == "applied";
    }

    /// <summary>The version <paramref name="node"/> keeps of an object (a tombstone included), or null when it has none.</summary>
    public async Task<ObjectRecord?> HeadAsync(string node, string bucket, string key, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Url(node, "replica", bucket, key));
        using var response = await SendAsync(node, request, _timeout, cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : RecordWire.Decode(response.Headers.GetValues(RecordHeader).First());
    }

    /// <summary>
    /// Opens bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> of the version
    /// <paramref name="record"/> on <paramref name="node"/>; null when the node no longer has that version. The node
    /// verifies each block as it sends and cuts the stream short on a corrupt one.
    /// </summary>
    public async Task<HttpResponseMessage?> OpenAsync(string node, ObjectRecord record, long offset, long count, CancellationToken cancellationToken)
    {
        var url = Url(node, "replica", record.Bucket, record.Key) + string.Create(CultureInfo.InvariantCulture, $"&version={record.Version}&writer={Uri.EscapeDataString(record.Writer)}&offset={offset}&count={count}");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        var response = await SendAsync(node, request, _timeout, cancellationToken, allowNotFound: true, headersOnly: true).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }

        return response;
    }

    /// <summary>Up to <paramref name="limit"/> versions <paramref name="node"/> keeps under a prefix after a key, tombstones included.</summary>
    public async Task<IReadOnlyList<ObjectRecord>> ListAsync(string node, string bucket, string prefix, string after, int limit, CancellationToken cancellationToken)
    {
        var url = Url(node, "list", bucket, "") + $"&prefix={Uri.EscapeDataString(prefix)}&after={Uri.EscapeDataString(after)}&limit={limit.ToString(CultureInfo.InvariantCulture)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await SendAsync(node, request, _timeout, cancellationToken).ConfigureAwait(false);
        var wire = await response.Content.ReadFromJsonAsync(RecordJson.Default.RecordWireArray, cancellationToken).ConfigureAwait(false) ?? [];
        return [.. wire.Select(entry => entry.ToRecord())];
    }

    /// <summary>The buckets <paramref name="node"/> has.</summary>
    public async Task<IReadOnlyList<string>> BucketsAsync(string node, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(node, "buckets", "", ""));
        using var response = await SendAsync(node, request, _timeout, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(RecordJson.Default.StringArray, cancellationToken).ConfigureAwait(false) ?? [];
    }

    /// <summary>Creates (<paramref name="create"/>) or deletes a bucket on <paramref name="node"/>; a delete answers false when the bucket is not empty there.</summary>
    public async Task<bool> BucketAsync(string node, string bucket, bool create, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(create ? HttpMethod.Put : HttpMethod.Delete, Url(node, "bucket", bucket, ""));
        using var response = await SendAsync(node, request, _timeout, cancellationToken, allowConflict: true).ConfigureAwait(false);
        return response.StatusCode != HttpStatusCode.Conflict;
    }

    /// <summary>Asks <paramref name="holder"/> to send its version of an object to <paramref name="target"/> (read repair, anti-entropy pulls).</summary>
    public async Task PushAsync(string holder, string bucket, string key, string target, CancellationToken cancellationToken, bool repair = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(node: holder, "push", bucket, key) + $"&to={Uri.EscapeDataString(target)}{(repair ? "&repair=1" : "")}");
        using var response = await SendAsync(holder, request, _timeout * 6, cancellationToken, allowNotFound: true).ConfigureAwait(false);
    }

    /// <summary><paramref name="node"/>'s Merkle tree of a bucket over the keys both it and <paramref name="with"/> keep.</summary>
    public async Task<ulong[]> MerkleAsync(string node, string bucket, string with, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(node, "merkle", bucket, "") + $"&with={Uri.EscapeDataString(with)}");
        using var response = await SendAsync(node, request, _timeout * 6, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(RecordJson.Default.UInt64Array, cancellationToken).ConfigureAwait(false) ?? [];
    }

    /// <summary>The versions under some leaves of <paramref name="node"/>'s Merkle tree shared with <paramref name="with"/>.</summary>
    public async Task<IReadOnlyList<ObjectRecord>> LeafAsync(string node, string bucket, string with, IEnumerable<int> leaves, CancellationToken cancellationToken)
    {
        var url = Url(node, "merkle-leaves", bucket, "") + $"&with={Uri.EscapeDataString(with)}&leaves={string.Join('.', leaves)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await SendAsync(node, request, _timeout * 6, cancellationToken).ConfigureAwait(false);
        var wire = await response.Content.ReadFromJsonAsync(RecordJson.Default.RecordWireArray, cancellationToken).ConfigureAwait(false) ?? [];
        return [.. wire.Select(entry => entry.ToRecord())];
    }

    private string Url(string node, string operation, string bucket, string key)
    {
        var address = _topology.AddressOf(node);
        return $"{address.Scheme}://{address.Authority}/_blueprint/{operation}?bucket={Uri.EscapeDataString(bucket)}&key={Uri.EscapeDataString(key)}";
    }

    private async Task<HttpResponseMessage> SendAsync(
        string node, HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken,
        bool allowNotFound = false, bool allowConflict = false, bool headersOnly = false)
    {
        request.Headers.Add(SecretHeader, _topology.ClusterSecret);
        request.Version = HttpVersion.Version11;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, headersOnly ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new PeerUnavailableException(node, e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0.#} s" : e.Message, e);
        }

        if (response.IsSuccessStatusCode || (allowNotFound && response.StatusCode == HttpStatusCode.NotFound) || (allowConflict && response.StatusCode == HttpStatusCode.Conflict))
        {
            return response;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        response.Dispose();
        throw new PeerUnavailableException(node, $"HTTP {(int)response.StatusCode}: {text[..Math.Min(text.Length, 200)]}");
    }
}

/// <summary>A peer that did not answer in time, refused the connection, or failed the call.</summary>
internal sealed class PeerUnavailableException : Exception
{
    public PeerUnavailableException(string node, string reason, Exception? inner = null)
        : base($"storage node {node}: {reason}", inner)
    {
        Node = node;
    }

    public PeerUnavailableException()
    {
        Node = "";
    }

    public PeerUnavailableException(string message)
        : base(message)
    {
        Node = "";
    }

    public PeerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Node = "";
    }

    public string Node { get; }
}

/// <summary>An object version's metadata as peers exchange it (JSON, in a header or a list).</summary>
internal sealed record RecordWire(
    string Bucket, string Key, long Size, string ETag, Dictionary<string, string> Headers, long Modified, long Version, string Writer, bool Deleted)
{
    public static RecordWire From(ObjectRecord record) => new(
        record.Bucket, record.Key, record.Size, record.ETag, new Dictionary<string, string>(record.Headers, StringComparer.Ordinal),
        record.Modified.ToUnixTimeMilliseconds(), record.Version, record.Writer, record.Deleted);

    public static string Encode(ObjectRecord record) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(From(record), RecordJson.Default.RecordWire));

    public static ObjectRecord Decode(string header) =>
        (JsonSerializer.Deserialize(Convert.FromBase64String(header), RecordJson.Default.RecordWire) ?? throw new FormatException("empty record")).ToRecord();

    public ObjectRecord ToRecord() => new(Bucket, Key, Size, ETag, Headers, DateTimeOffset.FromUnixTimeMilliseconds(Modified), null, [])
    {
        Version = Version,
        Writer = Writer,
        Deleted = Deleted,
    };
}

[JsonSerializable(typeof(RecordWire))]
[JsonSerializable(typeof(RecordWire[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(ulong[]))]
[JsonSerializable(typeof(ReplicaStatus))]
internal sealed partial class RecordJson : JsonSerializerContext;
