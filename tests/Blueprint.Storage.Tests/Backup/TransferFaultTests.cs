using System.Net;
using System.Text;
using Blueprint.Storage.Backup;
using Blueprint.Storage.Tests.S3;
using static Blueprint.Storage.Tests.Backup.BackupTestSupport;

namespace Blueprint.Storage.Tests.Backup;

/// <summary>The backup client between a real node and faults injected under it: 503s, dropped connections, stalls, corrupt bodies.</summary>
public sealed class TransferFaultTests
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Backup_and_restore_ride_out_503s_dropped_connections_stalls_and_a_corrupt_body()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        await FillAsync(node.Client, "flaky");
        var expected = await ReadBucketAsync(node.Client, "flaky");
        var faults = new FaultyHandler(_ => Fault.Cycle) { CorruptOnce = "big/over-64k.bin" };
        using var client = new S3Client(new Uri(node.Endpoint), S3Node.AccessKey, S3Node.SecretKey, "us-east-1", CallTimeout, attempts: 4, handler: faults);
        using var backup = new TempDirectory();
        var engine = new BucketTransfer(SmallParts, TextWriter.Null);

        var summary = await engine.BackupToDirectoryAsync(client, "flaky", null, backup.Path, Token);
        Assert.Equal((expected.Count, 0), (summary.Transferred, summary.Skipped));
        Assert.True(faults.Corrupted, "the corrupt body was never served");
        Assert.True(faults.Injected[Fault.ServiceUnavailable] > 0 && faults.Injected[Fault.ConnectionLost] > 0 && faults.Injected[Fault.Stall] > 0, faults.Describe());

        summary = await engine.RestoreFromDirectoryAsync(backup.Path, client, "flaky-restored", Token);
        Assert.Equal(expected.Count, summary.Transferred);
        AssertSame(expected, await ReadBucketAsync(node.Client, "flaky-restored"));
    }

    [Fact]
    public async Task An_endpoint_that_keeps_failing_stops_the_run_with_its_error_after_the_retries()
    {
        await using var node = await S3Node.StartAsync(cancellationToken: Token);
        await FillAsync(node.Client, "down");
        using var backup = new TempDirectory();
        var engine = new BucketTransfer(SmallParts, TextWriter.Null);

        var busy = new FaultyHandler(_ => Fault.ServiceUnavailable);
        using (var client = new S3Client(new Uri(node.Endpoint), S3Node.AccessKey, S3Node.SecretKey, "us-east-1", CallTimeout, attempts: 3, handler: busy))
        {
            var error = await Assert.ThrowsAsync<S3ClientException>(() => engine.BackupToDirectoryAsync(client, "down", null, backup.Path, Token));
            Assert.Equal(("SlowDown", 503, 3), (error.Code, error.Status, busy.Requests));
        }

        var corrupt = new FaultyHandler(_ => Fault.None) { CorruptAlways = "small.txt" };
        using (var client = new S3Client(new Uri(node.Endpoint), S3Node.AccessKey, S3Node.SecretKey, "us-east-1", CallTimeout, attempts: 2, handler: corrupt))
        {
            var error = await Assert.ThrowsAsync<BackupIntegrityException>(() => engine.BackupToDirectoryAsync(client, "down", null, backup.Path, Token));
            Assert.Contains("small.txt: the bytes received do not match the ETag's MD5", error.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(backup.Path, "manifest.jsonl")));
    }

    internal enum Fault
    {
        None,
        Cycle,
        ServiceUnavailable,
        ConnectionLost,
        Stall,
    }

    /// <summary>
    /// Sends requests to the node but for the faults <c>choose</c> picks: with <see cref="Fault.Cycle"/>, every third
    /// request fails, in turn with a 503, a dropped connection and a stall longer than the client's timeout.
    /// </summary>
    private sealed class FaultyHandler(Func<HttpRequestMessage, Fault> choose) : DelegatingHandler(S3Client.Handler(CallTimeout))
    {
        private readonly Lock _gate = new();
        private int _cycle;

        public Dictionary<Fault, int> Injected { get; } = Enum.GetValues<Fault>().ToDictionary(f => f, _ => 0);

        public int Requests { get; private set; }

        public string? CorruptOnce { get; init; }

        public string? CorruptAlways { get; init; }

        public bool Corrupted { get; private set; }

        public string Describe() => string.Join(", ", Injected.Select(p => $"{p.Key}={p.Value}"));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Fault fault;
            lock (_gate)
            {
                Requests++;
                fault = choose(request);
                if (fault == Fault.Cycle)
                {
                    _cycle++;
                    fault = (_cycle % 9) switch { 1 => Fault.ServiceUnavailable, 4 => Fault.ConnectionLost, 7 => Fault.Stall, _ => Fault.None };
                }

                Injected[fault]++;
            }

            switch (fault)
            {
                case Fault.ServiceUnavailable:
                    return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                    {
                        Content = new StringContent("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", Encoding.UTF8, "application/xml"),
                    };
                case Fault.ConnectionLost:
                    throw new HttpRequestException("the connection was reset (injected)");
                case Fault.Stall:
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
            }

            var response = await base.SendAsync(request, cancellationToken);
            var path = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath);
            bool Names(string? key) => key is not null && path.EndsWith("/" + key, StringComparison.Ordinal);
            var corrupt = request.Method == HttpMethod.Get && (Names(CorruptAlways) || (!Corrupted && Names(CorruptOnce)));
            if (!corrupt || !response.IsSuccessStatusCode)
            {
                return response;
            }

            // The same length and headers, one bit flipped: only the MD5 of the ETag can tell.
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            bytes[bytes.Length / 2] ^= 0x10;
            var replaced = new ByteArrayContent(bytes);
            foreach (var (name, values) in response.Content.Headers)
            {
                replaced.Headers.TryAddWithoutValidation(name, values);
            }

            response.Content = replaced;
            Corrupted = true;
            return response;
        }
    }
}
