namespace Blueprint.Bench;

/// <summary>
/// The frame of a load tool's command line: <c>--help</c> prints the usage; the options are parsed as a whole (bad
/// input: one line on stderr, exit 2); Ctrl-C cancels the run; the run's JSON line goes to stdout (exit 0); a run that
/// fails is one line on stderr (exit 1).
/// </summary>
internal static class LoadMain
{
    /// <summary>Parses <paramref name="args"/> with <paramref name="parse"/>, runs <paramref name="run"/>, prints its line; returns the exit code.</summary>
    /// <param name="name">The tool's name, in messages.</param>
    /// <param name="usage">The help.</param>
    /// <param name="args">The command line.</param>
    /// <param name="parse">Parses the command line; a <see cref="FormatException"/> reports bad input.</param>
    /// <param name="run">Runs the load; returns the JSON line.</param>
    /// <param name="describe">What the run was, for its failure's message ("the run against …").</param>
    public static async Task<int> RunAsync<TOptions>(
        string name, string usage, string[] args, Func<string[], TOptions> parse, Func<TOptions, CancellationToken, Task<string>> run, Func<TOptions, string> describe)
    {
        if (args is ["--help" or "-h" or "help", ..])
        {
            Console.WriteLine(usage);
            return 0;
        }

        TOptions options;
        try
        {
            options = parse(args);
        }
        catch (FormatException e)
        {
            await Console.Error.WriteLineAsync($"{name}: {e.Message} (see {name} --help)").ConfigureAwait(false);
            return 2;
        }

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };

        try
        {
            Console.WriteLine(await run(options, interrupted.Token).ConfigureAwait(false));
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException || !interrupted.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"{name}: {describe(options)} failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
