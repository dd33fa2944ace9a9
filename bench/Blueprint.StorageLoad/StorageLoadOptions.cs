using Blueprint.Bench;

namespace Blueprint.StorageLoad;

/// <summary>The parsed command line of one run.</summary>
internal sealed record StorageLoadOptions(
    string Mode, IReadOnlyList<Uri> Targets, string? Directory, int Size, int Concurrency, int Seconds, int Warmup,
    string Prefix, int Objects, string? AccessKey, string? SecretKey, bool CreateBucket, bool DirectoryFsync)
{
    public static StorageLoadOptions Parse(string[] args)
    {
        var problems = new List<string>();
        if (args.Length == 0 || args[0] is not ("put" or "get" or "file"))
        {
            throw new FormatException("the first argument is the mode: put, get or file");
        }

        var targets = new List<Uri>();
        string? directory = null, accessKey = null, secretKey = null;
        string prefix = "obj-";
        int size = 0, concurrency = 4, seconds = 5, warmup = 1, objects = 0, createBucket = 0, dirFsync = 0;
        foreach (var (flag, value) in Flags.Pairs(args[1..], problems))
        {
            switch (flag)
            {
                case "--targets":
                    foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (Uri.TryCreate(part.TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme == "http")
                        {
                            targets.Add(uri);
                        }
                        else
                        {
                            problems.Add($"--targets takes http URLs, got '{part}'");
                        }
                    }

                    break;
                case "--dir": directory = value; break;
                case "--size": size = Flags.Number(flag, value, 1, 1 << 30, problems); break;
                case "--concurrency": concurrency = Flags.Number(flag, value, 1, 256, problems); break;
                case "--seconds": seconds = Flags.Number(flag, value, 1, 3600, problems); break;
                case "--warmup": warmup = Flags.Number(flag, value, 0, 3600, problems); break;
                case "--objects": objects = Flags.Number(flag, value, 1, int.MaxValue, problems); break;
                case "--create-bucket": createBucket = Flags.Number(flag, value, 0, 1, problems); break;
                case "--dir-fsync": dirFsync = Flags.Number(flag, value, 0, 1, problems); break;
                case "--prefix": prefix = value; break;
                case "--access-key": accessKey = value; break;
                case "--secret-key": secretKey = value; break;
                default: problems.Add($"unknown flag {flag}"); break;
            }
        }

        if (size == 0)
        {
            problems.Add("--size is required");
        }

        if (args[0] == "file" ? directory is null : targets.Count == 0)
        {
            problems.Add(args[0] == "file" ? "--dir is required" : "--targets is required");
        }

        if (args[0] == "get" && objects == 0)
        {
            problems.Add("--objects is required");
        }

        if ((accessKey is null) != (secretKey is null))
        {
            problems.Add("--access-key and --secret-key go together");
        }

        if (prefix.Length == 0 || !prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
        {
            problems.Add("--prefix is letters, digits, '-', '.' and '_'");
        }

        if (problems.Count > 0)
        {
            throw new FormatException(string.Join("; ", problems));
        }

        return new StorageLoadOptions(args[0], targets, directory, size, concurrency, seconds, warmup, prefix, objects, accessKey, secretKey, createBucket == 1, dirFsync == 1);
    }
}
