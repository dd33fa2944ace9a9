using System.CommandLine;
using System.Globalization;

using Blueprint.Lab.Experiments;
using Blueprint.Lab.Processes;

namespace Blueprint.Lab;

/// <summary>The <c>blueprint lab</c> verb group: experiments that measure the cheat sheet's claims.</summary>
public static class LabCommand
{
    /// <summary>The seed used when <c>--seed</c> is not given, so default runs are reproducible.</summary>
    public const int DefaultSeed = 20240611;

    /// <summary>The exit code for an unknown experiment, a bad option value, or a program the experiment needs that is missing or does not start.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Creates the <c>lab</c> command: <c>lab list</c> and <c>lab &lt;experiment&gt; [--seed N] [--quick] [--json] [--out DIR]</c>.</summary>
    /// <returns>The command, its experiments finding the programs they start from this process (<see cref="LabEnvironment.Detect"/>).</returns>
    public static Command Create() => Create(LabEnvironment.Detect());

    /// <summary>Creates the <c>lab</c> command with the programs its experiments start.</summary>
    /// <param name="environment">Where the Blueprint node and RabbitMQ are.</param>
    /// <returns>The command.</returns>
    public static Command Create(LabEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Argument<string?> experiment = new("experiment")
        {
            Description = "The experiment to run; 'blueprint lab list' names them.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        // Values are parsed here rather than by the parser so that a bad value is one line on stderr and exit code 2.
        Option<string?> seed = new("--seed") { Description = $"Seed for every random choice (default {DefaultSeed}).", Arity = ArgumentArity.ZeroOrOne };
        Option<string?> output = new("--out") { Description = "Directory for <name>.md, .json and .png (default ./lab-results).", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> quick = new("--quick") { Description = "Smaller sizes: seconds instead of tens of seconds." };
        Option<bool> json = new("--json") { Description = "Print only the JSON result on stdout." };

        Command lab = new("lab", "Run experiments that measure the cheat sheet's claims.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        lab.Arguments.Add(experiment);
        lab.Options.Add(seed);
        lab.Options.Add(quick);
        lab.Options.Add(json);
        lab.Options.Add(output);

        Command list = new("list", "List the experiments.");
        list.SetAction(parseResult =>
        {
            WriteList(parseResult.InvocationConfiguration.Output);
            return 0;
        });
        lab.Subcommands.Add(list);

        lab.SetAction(parseResult =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            if (parseResult.UnmatchedTokens.Count > 0)
            {
                return Fail(stderr, $"lab: unknown option or argument '{parseResult.UnmatchedTokens[0]}'.");
            }

            string? name = parseResult.GetValue(experiment);
            if (name is null)
            {
                WriteList(stdout);
                return 0;
            }

            IExperiment? chosen = ExperimentCatalog.Find(name);
            if (chosen is null)
            {
                return Fail(stderr, $"lab: unknown experiment '{name}'; known: {string.Join(", ", ExperimentCatalog.All.Select(e => e.Name))}.");
            }

            int seedValue = DefaultSeed;
            if (parseResult.GetResult(seed) is not null)
            {
                string? text = parseResult.GetValue(seed);
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out seedValue))
                {
                    return Fail(stderr, $"lab: --seed needs an integer, got '{text}'.");
                }
            }

            string outputDirectory = "lab-results";
            if (parseResult.GetResult(output) is not null)
            {
                string? text = parseResult.GetValue(output);
                if (string.IsNullOrWhiteSpace(text) || text.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
                {
                    return Fail(stderr, $"lab: --out needs a directory, got '{text}'.");
                }

                outputDirectory = text;
            }

            try
            {
                ExperimentOptions options = new(seedValue, parseResult.GetValue(quick)) { Environment = environment };
                return LabRunner.Run(chosen, options, outputDirectory, parseResult.GetValue(json), stdout);
            }
            catch (IOException e)
            {
                return Fail(stderr, $"lab: cannot write to '{outputDirectory}': {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                return Fail(stderr, $"lab: cannot write to '{outputDirectory}': {e.Message}");
            }
            catch (LabPrerequisiteException e)
            {
                return Fail(stderr, $"lab: {chosen.Name}: {e.Message}");
            }
        });
        return lab;
    }

    private static void WriteList(TextWriter output)
    {
        foreach (IExperiment e in ExperimentCatalog.All)
        {
            output.WriteLine($"{e.Name,-24} {e.Description}");
        }
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        return UsageErrorExitCode;
    }
}
