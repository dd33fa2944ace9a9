using Blueprint.Lab.Experiments;
using Blueprint.Lab.Reporting;

using Spectre.Console;

namespace Blueprint.Lab;

/// <summary>Runs one experiment and writes its console, Markdown, JSON and PNG outputs.</summary>
internal static class LabRunner
{
    public static int Run(IExperiment experiment, ExperimentOptions options, string outputDirectory, bool json, TextWriter output)
    {
        bool interactive = !json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });

        if (!json)
        {
            console.Write(new Rule(Markup.Escape($"blueprint lab {experiment.Name}")));
            console.WriteLine(experiment.Description);
        }

        ExperimentResult result = interactive ? RunWithProgressBar(console, experiment, options) : experiment.Run(options, new Progress<double>());
        MachineInfo machine = MachineInfo.Current();
        DateTimeOffset date = DateTimeOffset.UtcNow;
        string jsonText = JsonReport.Render(result, options, machine, date);

        _ = Directory.CreateDirectory(outputDirectory);
        string plotFile = $"{experiment.Name}.png";
        File.WriteAllText(Path.Combine(outputDirectory, $"{experiment.Name}.json"), jsonText + Environment.NewLine);
        File.WriteAllText(Path.Combine(outputDirectory, $"{experiment.Name}.md"), MarkdownReport.Render(result, machine, date, plotFile));
        PlotWriter.Write(result.Plot, Path.Combine(outputDirectory, plotFile));

        if (json)
        {
            output.WriteLine(jsonText);
            return 0;
        }

        ConsoleReport.Write(console, result);
        int holding = result.Claims.Count(c => c.Holds);
        console.WriteLine($"{holding} of {result.Claims.Count} claims hold. Wrote {Path.Combine(outputDirectory, experiment.Name)}.md, .json and .png.");
        return 0;
    }

    private static ExperimentResult RunWithProgressBar(IAnsiConsole console, IExperiment experiment, ExperimentOptions options) =>
        console.Progress().Start(context =>
        {
            ProgressTask task = context.AddTask(Markup.Escape(experiment.Name), maxValue: 1.0);
            ExperimentResult result = experiment.Run(options, new SynchronousProgress(fraction => task.Value = fraction));
            task.Value = 1.0;
            return result;
        });

    /// <summary>Reports on the calling thread; <see cref="Progress{T}"/> would post to the thread pool.</summary>
    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
