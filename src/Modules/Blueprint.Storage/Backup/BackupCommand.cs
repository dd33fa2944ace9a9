using System.CommandLine;
using System.Globalization;

namespace Blueprint.Storage.Backup;

/// <summary>
/// <c>blueprint storage backup</c> and <c>restore</c>: a bucket to a directory or to a bucket on another S3 endpoint, and
/// back. Bad input prints one line and exits 2; an S3 error, an unreachable endpoint or a backup that fails its
/// checks prints the reason and exits 1.
/// </summary>
internal static class BackupCommand
{
    public const int BadInput = 2;
    public const int Failed = 1;

    private const string DefaultRegion = "us-east-1";
    private const int DefaultTimeoutSeconds = 300;

    public static Command CreateBackup(TransferOptions? transfer = null)
    {
        var command = new Command("backup", "Back up a bucket into a directory (objects/, manifest.jsonl, backup.json; incremental) or into a bucket on another S3 endpoint (--to s3://BUCKET).");
        var endpoint = new Option<string>("--endpoint") { Description = "The S3 endpoint to back up from, such as http://127.0.0.1:9000." };
        var bucket = new Option<string>("--bucket") { Description = "The bucket to back up." };
        var to = new Option<string>("--to") { Description = "A directory, or s3://BUCKET on --to-endpoint." };
        var prefix = new Option<string>("--prefix") { Description = "Back up only the keys that begin with this." };
        var toEndpoint = new Option<string>("--to-endpoint") { Description = "The S3 endpoint of --to s3://BUCKET (default: --endpoint)." };
        command.Options.Add(endpoint);
        command.Options.Add(bucket);
        command.Options.Add(to);
        command.Options.Add(prefix);
        command.Options.Add(toEndpoint);
        var common = new CommonOptions(command, "to");
        command.SetAction((parse, cancellationToken) => RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var source = Endpoint(parse.GetValue(endpoint), "--endpoint");
            var sourceBucket = Required(parse.GetValue(bucket), "--bucket");
            var destination = Required(parse.GetValue(to), "--to");
            var engine = new BucketTransfer(transfer ?? new TransferOptions(), output);
            using var sourceClient = common.Client(parse, source, other: false);
            if (S3Bucket(destination) is { } targetBucket)
            {
                var target = parse.GetValue(toEndpoint) is { Length: > 0 } text ? Endpoint(text, "--to-endpoint") : source;
                if (target == source && targetBucket == sourceBucket)
                {
                    throw new BadInputException("--to names the bucket being backed up");
                }

                using var targetClient = common.Client(parse, target, other: true);
                await engine.CopyBucketAsync("backup", sourceClient, sourceBucket, parse.GetValue(prefix), targetClient, targetBucket, cancellationToken).ConfigureAwait(false);
                return 0;
            }

            if (parse.GetValue(toEndpoint) is { Length: > 0 })
            {
                throw new BadInputException("--to-endpoint goes with --to s3://BUCKET, not a directory");
            }

            await engine.BackupToDirectoryAsync(sourceClient, sourceBucket, parse.GetValue(prefix), Path.GetFullPath(destination), cancellationToken).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    public static Command CreateRestore(TransferOptions? transfer = null)
    {
        var command = new Command("restore", "Restore a bucket from a backup directory (every file checked against the manifest first) or from a bucket on another S3 endpoint (--from s3://BUCKET).");
        var from = new Option<string>("--from") { Description = "A backup directory, or s3://BUCKET on --from-endpoint." };
        var endpoint = new Option<string>("--endpoint") { Description = "The S3 endpoint to restore into." };
        var bucket = new Option<string>("--bucket") { Description = "The bucket to restore into (created if missing)." };
        var fromEndpoint = new Option<string>("--from-endpoint") { Description = "The S3 endpoint of --from s3://BUCKET (default: --endpoint)." };
        command.Options.Add(from);
        command.Options.Add(endpoint);
        command.Options.Add(bucket);
        command.Options.Add(fromEndpoint);
        var common = new CommonOptions(command, "from");
        command.SetAction((parse, cancellationToken) => RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var source = Required(parse.GetValue(from), "--from");
            var target = Endpoint(parse.GetValue(endpoint), "--endpoint");
            var targetBucket = Required(parse.GetValue(bucket), "--bucket");
            var engine = new BucketTransfer(transfer ?? new TransferOptions(), output);
            using var targetClient = common.Client(parse, target, other: false);
            if (S3Bucket(source) is { } sourceBucket)
            {
                var sourceEndpoint = parse.GetValue(fromEndpoint) is { Length: > 0 } text ? Endpoint(text, "--from-endpoint") : target;
                if (sourceEndpoint == target && sourceBucket == targetBucket)
                {
                    throw new BadInputException("--from names the bucket being restored");
                }

                using var sourceClient = common.Client(parse, sourceEndpoint, other: true);
                await engine.CopyBucketAsync("restore", sourceClient, sourceBucket, null, targetClient, targetBucket, cancellationToken).ConfigureAwait(false);
                return 0;
            }

            if (parse.GetValue(fromEndpoint) is { Length: > 0 })
            {
                throw new BadInputException("--from-endpoint goes with --from s3://BUCKET, not a directory");
            }

            var directory = Path.GetFullPath(source);
            if (!File.Exists(Path.Combine(directory, BackupDirectory.ManifestFile)))
            {
                throw new BadInputException($"{source} is not a backup directory (it has no {BackupDirectory.ManifestFile})");
            }

            await engine.RestoreFromDirectoryAsync(directory, targetClient, targetBucket, cancellationToken).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static async Task<int> RunAsync(TextWriter error, Func<Task<int>> action)
    {
        string message;
        int code;
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (BadInputException e)
        {
            (message, code) = (e.Message, BadInput);
        }
        catch (S3ClientException e)
        {
            (message, code) = ($"the S3 endpoint answered {e.Code}: {e.Message}", Failed);
        }
        catch (S3UnreachableException e)
        {
            (message, code) = ($"cannot reach {e.Message}", Failed);
        }
        catch (BackupIntegrityException e)
        {
            (message, code) = (e.Message, Failed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            (message, code) = (e.Message, Failed);
        }

        await error.WriteLineAsync($"blueprint: {message}").ConfigureAwait(false);
        return code;
    }

    private static string Required(string? value, string flag) =>
        string.IsNullOrWhiteSpace(value) ? throw new BadInputException($"{flag} is required") : value;

    private static Uri Endpoint(string? text, string flag)
    {
        var value = Required(text, flag);
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new BadInputException($"{flag} must be an http:// or https:// URL with no path, got {value}");
        }

        return uri;
    }

    /// <summary>The bucket of an <c>s3://BUCKET</c> argument; null for a directory.</summary>
    private static string? S3Bucket(string target)
    {
        if (!target.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var name = target["s3://".Length..].TrimEnd('/');
        return name.Length == 0 || name.Contains('/', StringComparison.Ordinal)
            ? throw new BadInputException($"{target} must be s3://BUCKET (a whole bucket)")
            : name;
    }

    private sealed class BadInputException(string message) : Exception(message);

    /// <summary>The credentials, region and timeout flags of both endpoints (<c>--access-key</c>, <c>--to-access-key</c>...).</summary>
    private sealed class CommonOptions
    {
        private readonly Option<string> _accessKey = new("--access-key") { Description = "The access key of --endpoint (default: AWS_ACCESS_KEY_ID)." };
        private readonly Option<string> _secretKey = new("--secret-key") { Description = "The secret key of --endpoint (default: AWS_SECRET_ACCESS_KEY)." };
        private readonly Option<string> _region = new("--region") { Description = "The SigV4 region.", DefaultValueFactory = _ => DefaultRegion };
        private readonly Option<string> _otherAccessKey;
        private readonly Option<string> _otherSecretKey;
        private readonly Option<string> _otherRegion;
        private readonly Option<int> _timeout = new("--timeout") { Description = "Seconds a request may go without progress before it is retried.", DefaultValueFactory = _ => DefaultTimeoutSeconds };

        public CommonOptions(Command command, string other)
        {
            _otherAccessKey = new($"--{other}-access-key") { Description = $"The access key of --{other}-endpoint (default: the one of --endpoint)." };
            _otherSecretKey = new($"--{other}-secret-key") { Description = $"The secret key of --{other}-endpoint (default: the one of --endpoint)." };
            _otherRegion = new($"--{other}-region") { Description = $"The SigV4 region of --{other}-endpoint (default: --region)." };
            foreach (var option in (Option[])[_accessKey, _secretKey, _region, _otherAccessKey, _otherSecretKey, _otherRegion, _timeout])
            {
                command.Options.Add(option);
            }
        }

        public S3Client Client(ParseResult parse, Uri endpoint, bool other)
        {
            var accessKey = parse.GetValue(_accessKey) is { Length: > 0 } a ? a : Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
            var secretKey = parse.GetValue(_secretKey) is { Length: > 0 } s ? s : Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
            var region = parse.GetValue(_region) is { Length: > 0 } r ? r : DefaultRegion;
            if (other)
            {
                accessKey = parse.GetValue(_otherAccessKey) is { Length: > 0 } oa ? oa : accessKey;
                secretKey = parse.GetValue(_otherSecretKey) is { Length: > 0 } os ? os : secretKey;
                region = parse.GetValue(_otherRegion) is { Length: > 0 } or ? or : region;
            }

            if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
            {
                throw new BadInputException($"no credentials for {endpoint.GetLeftPart(UriPartial.Authority)}: pass --access-key and --secret-key or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
            }

            var timeout = parse.GetValue(_timeout);
            if (timeout < 1)
            {
                throw new BadInputException(string.Create(CultureInfo.InvariantCulture, $"--timeout must be at least 1 second, got {timeout}"));
            }

            return new S3Client(endpoint, accessKey, secretKey, region, TimeSpan.FromSeconds(timeout));
        }
    }
}
