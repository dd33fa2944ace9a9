using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Blueprint.Storage.Tests.S3;

/// <summary>A started node with the storage module, a root key, and an AWS SDK client signed with it.</summary>
internal sealed class S3Node : IAsyncDisposable
{
    public const string AccessKey = "BPTESTROOTKEY0000001";
    public const string SecretKey = "test-secret-key-0123456789abcdefghijklmn";

    private S3Node(TestNode node)
    {
        Node = node;
        Port = node.Node.Services.GetRequiredService<IOptions<StorageOptions>>().Value.S3Port;
        Client = CreateClient(Port, AccessKey, SecretKey);
    }

    public TestNode Node { get; }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public AmazonS3Client Client { get; }

    public static async Task<S3Node> StartAsync(
        string? dataDir = null, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var all = new Dictionary<string, string?>(TestNode.FreeListenerPorts(TestNode.RequireCatalog()))
        {
            ["Storage:RootAccessKey"] = AccessKey,
            ["Storage:RootSecretKey"] = SecretKey,
            ["Storage:MinPartBytes"] = "1024",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new S3Node(await TestNode.StartAsync(dataDir, all, time is null ? null : services => services.AddSingleton(time), cancellationToken));
    }

    public static AmazonS3Client CreateClient(int port, string accessKey, string secretKey) =>
        new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = $"http://127.0.0.1:{port}",
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            Timeout = TimeSpan.FromSeconds(60),
            MaxErrorRetry = 0,
        });

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Node.DisposeAsync();
    }
}
