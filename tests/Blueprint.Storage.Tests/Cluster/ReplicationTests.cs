using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using Blueprint.Storage.Local;
using Blueprint.Storage.Tests.S3;
using Microsoft.Extensions.Logging.Abstractions;

namespace Blueprint.Storage.Tests.Cluster;

/// <summary>
/// The Dynamo-style cluster as separate processes: writes acknowledged by W=2 of N=3 survive a SIGKILL, a node that comes
/// back is given what it missed (hinted handoff, anti-entropy), and a corrupted replica is caught on read and repaired.
/// </summary>
public sealed class ReplicationTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(90);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_acknowledged_write_survives_a_killed_node_and_the_node_gets_its_replicas_back()
    {
        // Four nodes and N=3, so a key whose home includes the dead node has a stand-in that keeps a hint.
        await using var cluster = await StorageCluster.StartAsync(4);
        await cluster.Client(1).PutBucketAsync("survive", Token);

        var acknowledged = new Dictionary<string, byte[]>();
        var failed = 0;
        for (var i = 0; i < 80; i++)
        {
            if (i == 25)
            {
                await cluster.KillAsync(4);
            }

            var key = $"obj-{i:D3}";
            var bytes = AwsSdkTests.RandomBytes(i % 3 == 0 ? 150_000 : 3_000, seed: i);
            try
            {
                using var client = cluster.Client(1 + (i % 3));
                await client.PutObjectAsync(new PutObjectRequest { BucketName = "survive", Key = key, InputStream = new MemoryStream(bytes) }, Token);
                acknowledged[key] = bytes;
            }
            catch (AmazonS3Exception)
            {
                failed++;
            }
        }

        Assert.Equal(0, failed); // three of four nodes up: W=2 is always reachable
        foreach (var (key, bytes) in acknowledged)
        {
            using var client = cluster.Client(1 + (key.GetHashCode(StringComparison.Ordinal) & 1));
            using var got = await client.GetObjectAsync("survive", key, Token);
            Assert.Equal(bytes, await AwsSdkTests.ReadAllAsync(got.ResponseStream));
        }

        var hints = 0L;
        for (var node = 1; node <= 3; node++)
        {
            hints += (await cluster.StatusAsync(node, Token)).GetProperty("Hints").GetInt64();
        }

        Assert.True(hints > 0, "writes for the dead node's keys went to stand-ins as hints");

        await cluster.StartNodeAsync(4);
        await Eventually.TrueAsync(async () =>
        {
            foreach (var (key, bytes) in acknowledged)
            {
                var holders = 0;
                for (var node = 1; node <= 4; node++)
                {
                    holders += await cluster.LocalETagAsync(node, "survive", key, Token) == $"\"{Convert.ToHexStringLower(AwsSdkTests.Md5(bytes))}\"" ? 1 : 0;
                }

                if (holders < 3)
                {
                    return false;
                }
            }

            return true;
        }, Converge, () => "every acknowledged object on at least 3 nodes again", Token);

        await Eventually.TrueAsync(async () =>
        {
            var left = 0L;
            for (var node = 1; node <= 4; node++)
            {
                left += (await cluster.StatusAsync(node, Token)).GetProperty("Hints").GetInt64();
            }

            return left == 0;
        }, Converge, () => "every hint handed to node 4", Token);
        var handedOff = 0L;
        for (var node = 1; node <= 3; node++)
        {
            handedOff += (await cluster.StatusAsync(node, Token)).GetProperty("HandedOff").GetInt64();
        }

        Assert.Equal(hints, handedOff);

        // On disk: node 4's own store holds every object its ring position gives it, each block matching its checksum.
        for (var node = 1; node <= 4; node++)
        {
            await cluster.KillAsync(node);
        }

        var onDisk = 0;
        using (var store = new LocalStore(Path.Combine(cluster.DataDir(4), "storage"), TimeProvider.System, NullLogger.Instance))
        {
            foreach (var (key, bytes) in acknowledged)
            {
                if (await store.Meta.GetObjectAsync("survive", key, Token) is not { Deleted: false } record)
                {
                    continue;
                }

                onDisk++;
                var buffer = new MemoryStream();
                await store.CopyToAsync(record, 0, record.Size, (chunk, _) =>
                {
                    buffer.Write(chunk.Span);
                    return ValueTask.CompletedTask;
                }, Token);
                Assert.Equal(bytes, buffer.ToArray());
            }
        }

        Assert.InRange(onDisk, acknowledged.Count / 2, acknowledged.Count); // about 3/4 of the keys have node 4 among their 3 homes
    }

    [Fact]
    public async Task A_corrupted_replica_is_caught_on_read_served_from_another_and_repaired()
    {
        await using var cluster = await StorageCluster.StartAsync(3);
        using (var client = cluster.Client(1))
        {
            await client.PutBucketAsync("rot", Token);
        }

        var bytes = AwsSdkTests.RandomBytes(300_000, seed: 42);
        using (var client = cluster.Client(1))
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = "rot", Key = "precious", InputStream = new MemoryStream(bytes) }, Token);
        }

        await Eventually.TrueAsync(async () => await cluster.LocalBytesAsync(2, "rot", "precious", Token) is { } copy && copy.SequenceEqual(bytes), Converge, () => "node 2 has its replica", Token);

        // Flip one byte of node 2's copy on disk while it is down.
        await cluster.KillAsync(2);
        using (var store = new LocalStore(Path.Combine(cluster.DataDir(2), "storage"), TimeProvider.System, NullLogger.Instance))
        {
            var record = await store.Meta.GetObjectAsync("rot", "precious", Token);
            await using var file = new FileStream(store.Blobs.PathOf(record!.Segments[0].Blob), FileMode.Open, FileAccess.ReadWrite);
            file.Position = 200_000;
            var original = file.ReadByte();
            file.Position = 200_000;
            file.WriteByte((byte)(original ^ 0xFF));
        }

        await cluster.StartNodeAsync(2);
        Assert.Null(await cluster.LocalBytesAsync(2, "rot", "precious", Token)); // its own copy no longer passes

        using (var client = cluster.Client(2))
        {
            using var got = await client.GetObjectAsync("rot", "precious", Token);
            Assert.Equal(bytes, await AwsSdkTests.ReadAllAsync(got.ResponseStream)); // served from a good replica
        }

        await Eventually.TrueAsync(async () => await cluster.LocalBytesAsync(2, "rot", "precious", Token) is { } copy && copy.SequenceEqual(bytes), Converge, () => "node 2's copy repaired", Token);
        Assert.True((await cluster.StatusAsync(2, Token)).GetProperty("CorruptReads").GetInt64() >= 1);
    }

    [Fact]
    public async Task Clients_see_one_store_whichever_node_they_call()
    {
        await using var cluster = await StorageCluster.StartAsync(3);
        using var one = cluster.Client(1);
        using var two = cluster.Client(2);
        using var three = cluster.Client(3);
        await one.PutBucketAsync("shared", Token);
        Assert.Contains("shared", (await three.ListBucketsAsync(Token)).Buckets.Select(bucket => bucket.BucketName));

        for (var i = 0; i < 30; i++)
        {
            await (i % 2 == 0 ? one : two).PutObjectAsync(new PutObjectRequest { BucketName = "shared", Key = $"k/{i:D2}", ContentBody = $"value {i}" }, Token);
        }

        using (var got = await three.GetObjectAsync("shared", "k/07", Token))
        {
            Assert.Equal("value 7", await new StreamReader(got.ResponseStream).ReadToEndAsync(Token));
        }

        List<string> keys = [];
        string? token = null;
        do
        {
            var page = await three.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "shared", Prefix = "k/", MaxKeys = 7, ContinuationToken = token }, Token);
            keys.AddRange(page.S3Objects.Select(entry => entry.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"k/{i:D2}"), keys);

        await two.DeleteObjectAsync("shared", "k/07", Token);
        var gone = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => one.GetObjectAsync("shared", "k/07", Token));
        Assert.Equal("NoSuchKey", gone.ErrorCode);
        Assert.Equal(29, (await one.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "shared", Prefix = "k/" }, Token)).KeyCount);

        // An object above the node's general request-body limit (1 MiB) reaches every replica.
        var large = AwsSdkTests.RandomBytes(2_500_000, seed: 9);
        await one.PutObjectAsync(new PutObjectRequest { BucketName = "shared", Key = "large", InputStream = new MemoryStream(large) }, Token);
        var largeETag = $"\"{Convert.ToHexStringLower(AwsSdkTests.Md5(large))}\"";
        await Eventually.TrueAsync(async () =>
        {
            for (var node = 1; node <= 3; node++)
            {
                if (await cluster.LocalETagAsync(node, "shared", "large", Token) != largeETag)
                {
                    return false;
                }
            }

            return true;
        }, Converge, () => "the large object on all three nodes", Token);
        using (var got = await three.GetObjectAsync("shared", "large", Token))
        {
            Assert.Equal(large, await AwsSdkTests.ReadAllAsync(got.ResponseStream));
        }

        // A multipart upload made through one node is readable through another.
        var parts = new[] { AwsSdkTests.RandomBytes(70_000, 1), AwsSdkTests.RandomBytes(5_000, 2) };
        var started = await two.InitiateMultipartUploadAsync("shared", "big", Token);
        List<PartETag> etags = [];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = await two.UploadPartAsync(new UploadPartRequest { BucketName = "shared", Key = "big", UploadId = started.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]) }, Token);
            etags.Add(new PartETag(i + 1, part.ETag));
        }

        await two.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "shared", Key = "big", UploadId = started.UploadId, PartETags = etags }, Token);
        using (var big = await three.GetObjectAsync("shared", "big", Token))
        {
            Assert.Equal(parts.SelectMany(part => part).ToArray(), await AwsSdkTests.ReadAllAsync(big.ResponseStream));
        }

        // awscli through the third node.
        var aws = CliClientTests.AwsCli();
        using var work = new TempDirectory();
        var file = Path.Combine(work.Path, "cli.txt");
        await File.WriteAllTextAsync(file, "through node three", Token);
        var environment = CliClientTests.AwsEnvironment(work.Path);
        await CliClientTests.RunAsync(aws, ["--endpoint-url", cluster.Endpoint(3), "s3", "cp", file, "s3://shared/cli.txt"], environment);
        var listing = await CliClientTests.RunAsync(aws, ["--endpoint-url", cluster.Endpoint(1), "s3", "ls", "s3://shared/"], environment);
        Assert.Contains("cli.txt", listing, StringComparison.Ordinal);
        Assert.Contains("PRE k/", listing, StringComparison.Ordinal);
        using (var got = await one.GetObjectAsync("shared", "cli.txt", Token))
        {
            Assert.Equal("through node three", await new StreamReader(got.ResponseStream).ReadToEndAsync(Token));
        }
    }
}
