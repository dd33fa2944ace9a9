using Blueprint.Bench;
using Blueprint.StorageLoad;

// Three modes, one JSON line each (ops, seconds, ops/s, MB/s of payload (10^6 bytes), p50/p99/max latency in ms,
// errors and the first one, and objects: how many keys the run wrote, all of which exist once it ends without errors):
//   put    --concurrency workers PUT objects of --size bytes as fast as answers come, keys <prefix><n> with n counting
//          from 0, each worker's request to the next of the --targets (bucket URLs) in turn; signed with SigV4
//          (UNSIGNED-PAYLOAD) when --access-key is given. --create-bucket 1 first creates the bucket on the first target.
//   get    the same workers GET keys <prefix><n>, n cycling over 0 … --objects − 1, each body read to its end into the
//          worker's buffer and its length checked; signed the same way when --access-key is given (a plain GET of a
//          static server otherwise).
//   file   the physical floor of put: each worker writes the object's bytes to a new file <dir>/<prefix><n> in one
//          write, fsyncs it, and with --dir-fsync 1 fsyncs the directory too (what the store does for a blob file).
// Each runs --warmup seconds unrecorded, then --seconds measured: an operation counts when it starts in the measured
// window; the window ends when the last of those completes. Bodies come from one random buffer made at start (no
// allocation per request).
return await LoadMain.RunAsync("Blueprint.StorageLoad", Usage.Text, args, StorageLoadOptions.Parse, Runner.RunAsync, o => $"the {o.Mode} run of {o.Size}-byte objects");

internal static class Usage
{
    public const string Text = """
        Blueprint.StorageLoad put  --targets http://127.0.0.1:9000/bucket[,URL…] --size BYTES [--access-key AK --secret-key SK] [--create-bucket 0|1] [--prefix obj-] [--concurrency 4] [--seconds 5] [--warmup 1]
        Blueprint.StorageLoad get  --targets URL[,URL…] --size BYTES --objects N [--access-key AK --secret-key SK] [--prefix obj-] [--concurrency 4] [--seconds 5] [--warmup 1]
        Blueprint.StorageLoad file --dir DIR --size BYTES [--dir-fsync 0|1] [--prefix obj-] [--concurrency 4] [--seconds 5] [--warmup 1]
        """;
}
