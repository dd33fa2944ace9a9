using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Blueprint.Storage.Backup;
using HdrHistogram;

namespace Blueprint.StorageLoad;

/// <summary>Runs the workers of one mode and reports the measured window as a JSON line.</summary>
internal static partial class Runner
{
    private const int Spread = 4096;
    private const long MaxLatencyMicroseconds = 600_000_000;

    public static async Task<string> RunAsync(StorageLoadOptions options, CancellationToken cancellationToken)
    {
        // One random buffer; object n's body starts at n mod 4096 so consecutive objects differ.
        var payload = new byte[options.Size + Spread];
        new Random(1).NextBytes(payload);
        var signer = options.AccessKey is null ? null : new S3Signer(options.AccessKey, options.SecretKey!, "us-east-1", TimeProvider.System);
        var clients = options.Targets.Select(_ => NewClient(options.Concurrency)).ToArray();
        try
        {
            if (options.CreateBucket)
            {
                await CreateBucketAsync(clients[0], options.Targets[0], signer, cancellationToken).ConfigureAwait(false);
            }

            var state = new RunState(options);
            var workers = new Task[options.Concurrency];
            for (var w = 0; w < workers.Length; w++)
            {
                var worker = w;
                workers[w] = options.Mode switch
                {
                    "file" => Task.Factory.StartNew(() => FileWorker(options, payload, state), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default),
                    "put" => Task.Run(() => PutWorkerAsync(options, payload, clients, signer, worker, state, cancellationToken), cancellationToken),
                    _ => Task.Run(() => GetWorkerAsync(options, clients, signer, worker, state, cancellationToken), cancellationToken),
                };
            }

            await Task.WhenAll(workers).ConfigureAwait(false);
            return state.Report();
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static HttpClient NewClient(int concurrency) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        { Timeout = TimeSpan.FromMinutes(5) };

    private static async Task CreateBucketAsync(HttpClient client, Uri bucket, S3Signer? signer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, bucket);
        signer?.Sign(request);
        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.Conflict)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"PUT {bucket} answered {(int)response.StatusCode}: {body}");
        }
    }

    private static Uri KeyUri(Uri target, string prefix, long n) => new(target + "/" + prefix + n.ToString(CultureInfo.InvariantCulture));

    private static async Task PutWorkerAsync(StorageLoadOptions options, byte[] payload, HttpClient[] clients, S3Signer? signer, int worker, RunState state, CancellationToken cancellationToken)
    {
        var turn = worker;
        while (state.Next(out var n, out var started))
        {
            var target = turn++ % clients.Length;
            string? error = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, KeyUri(options.Targets[target], options.Prefix, n))
                {
                    Content = new ReadOnlyMemoryContent(payload.AsMemory((int)(n % Spread), options.Size)),
                };
                signer?.Sign(request);
                using var response = await clients[target].SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    error = $"PUT {request.RequestUri} answered {(int)response.StatusCode}: {Trim(body)}";
                }
            }
            catch (HttpRequestException e)
            {
                error = $"PUT: {e.Message}";
            }

            state.Done(started, error);
        }
    }

    private static async Task GetWorkerAsync(StorageLoadOptions options, HttpClient[] clients, S3Signer? signer, int worker, RunState state, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(options.Size, 1 << 20)];
        var turn = worker;
        while (state.Next(out var n, out var started))
        {
            var target = turn++ % clients.Length;
            string? error = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, KeyUri(options.Targets[target], options.Prefix, n % options.Objects));
                signer?.Sign(request);
                using var response = await clients[target].SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    long total = 0;
                    int read;
                    while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        total += read;
                    }

                    if (!response.IsSuccessStatusCode)
                    {
                        error = $"GET {request.RequestUri} answered {(int)response.StatusCode}";
                    }
                    else if (total != options.Size)
                    {
                        error = $"GET {request.RequestUri} gave {total} bytes, not {options.Size}";
                    }
                }
            }
            catch (HttpRequestException e)
            {
                error = $"GET: {e.Message}";
            }

            state.Done(started, error);
        }
    }

    private static void FileWorker(StorageLoadOptions options, byte[] payload, RunState state)
    {
        var directory = options.Directory!;
        while (state.Next(out var n, out var started))
        {
            string? error = null;
            try
            {
                var path = Path.Combine(directory, options.Prefix + n.ToString(CultureInfo.InvariantCulture));
                using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    RandomAccess.Write(handle, payload.AsSpan((int)(n % Spread), options.Size), 0);
                    if (Fsync(handle.DangerousGetHandle().ToInt32()) != 0)
                    {
                        error = $"fsync {path}: errno {Marshal.GetLastPInvokeError()}";
                    }
                }

                if (error is null && options.DirectoryFsync)
                {
                    var fd = Open(directory, 0 /* O_RDONLY */);
                    if (fd < 0 || Fsync(fd) != 0)
                    {
                        error = $"fsync {directory}: errno {Marshal.GetLastPInvokeError()}";
                    }

                    if (fd >= 0)
                    {
                        _ = Close(fd);
                    }
                }
            }
            catch (IOException e)
            {
                error = e.Message;
            }

            state.Done(started, error);
        }
    }

    private static string Trim(string text) => text.Length <= 300 ? text : text[..300];

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>The shared counters of a run: the next object number, the window, the latencies, the errors.</summary>
    private sealed class RunState
    {
        private readonly StorageLoadOptions _options;
        private readonly long _measureFrom;
        private readonly long _stopAt;
        private readonly LongHistogram _latency = new(MaxLatencyMicroseconds, 3);
        private readonly Lock _gate = new();
        private long _next = -1;
        private long _ops;
        private long _lastEnd;
        private long _errors;
        private string? _firstError;

        public RunState(StorageLoadOptions options)
        {
            _options = options;
            var now = Stopwatch.GetTimestamp();
            _measureFrom = now + (options.Warmup * Stopwatch.Frequency);
            _stopAt = _measureFrom + (options.Seconds * Stopwatch.Frequency);
        }

        /// <summary>The next object number and the operation's start; false once the run is over.</summary>
        public bool Next(out long n, out long started)
        {
            started = Stopwatch.GetTimestamp();
            n = 0;
            if (started >= _stopAt || Volatile.Read(ref _errors) > 0)
            {
                return false;
            }

            n = Interlocked.Increment(ref _next);
            return true;
        }

        public void Done(long started, string? error)
        {
            var now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
                if (error is not null)
                {
                    _errors++;
                    _firstError ??= error;
                    return;
                }

                if (started < _measureFrom)
                {
                    return;
                }

                _ops++;
                _lastEnd = Math.Max(_lastEnd, now);
                _latency.RecordValue(Math.Min(MaxLatencyMicroseconds, Stopwatch.GetElapsedTime(started, now).Ticks / TimeSpan.TicksPerMicrosecond));
            }
        }

        public string Report()
        {
            lock (_gate)
            {
                var seconds = _ops == 0 ? 0 : Stopwatch.GetElapsedTime(_measureFrom, _lastEnd).TotalSeconds;
                var opsPerSecond = seconds > 0 ? _ops / seconds : 0;
                return JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["mode"] = _options.Mode,
                    ["size"] = _options.Size,
                    ["concurrency"] = _options.Concurrency,
                    ["ops"] = _ops,
                    ["seconds"] = Math.Round(seconds, 3),
                    ["ops_per_s"] = Math.Round(opsPerSecond, 1),
                    ["mb_per_s"] = Math.Round(opsPerSecond * _options.Size / 1e6, 2),
                    ["p50_ms"] = Milliseconds(50),
                    ["p99_ms"] = Milliseconds(99),
                    ["max_ms"] = _ops == 0 ? 0 : Math.Round(_latency.GetMaxValue() / 1000.0, 3),
                    ["errors"] = _errors,
                    ["first_error"] = _firstError,
                    ["objects"] = _next + 1,
                });
            }
        }

        private double Milliseconds(double percentile) =>
            _ops == 0 ? 0 : Math.Round(_latency.GetValueAtPercentile(percentile) / 1000.0, 3);
    }
}
