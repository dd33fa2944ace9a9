using System.Text;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Reporting;

/// <summary>Writes the human-readable result as Markdown.</summary>
public static class MarkdownReport
{
    /// <summary>Renders <paramref name="result"/> as Markdown.</summary>
    /// <param name="result">The result.</param>
    /// <param name="machine">The machine.</param>
    /// <param name="date">When it ran.</param>
    /// <param name="plotFileName">The PNG next to the Markdown file.</param>
    /// <returns>The Markdown text.</returns>
    public static string Render(ExperimentResult result, MachineInfo machine, DateTimeOffset date, string plotFileName)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(machine);
        StringBuilder md = new();
        md.Append("# Lab: ").AppendLine(result.Experiment).AppendLine();
        md.AppendLine(result.Summary).AppendLine();
        md.AppendLine("## Claims").AppendLine();
        md.AppendLine("| claim | expected | measured | verdict |");
        md.AppendLine("|---|---|---|---|");
        foreach (Claim claim in result.Claims)
        {
            md.Append("| ").Append(Cell(claim.Statement)).Append(" | ").Append(Cell(claim.Expected)).Append(" | ").Append(Cell(claim.Measured))
                .Append(" | ").Append(claim.Holds ? "holds" : "**does not hold**").AppendLine(" |");
        }

        foreach (ResultTable table in result.Tables)
        {
            md.AppendLine().Append("## ").AppendLine(table.Title).AppendLine();
            md.Append("| ").AppendJoin(" | ", table.Headers.Select(Cell)).AppendLine(" |");
            md.Append('|').AppendJoin(string.Empty, table.Headers.Select(_ => "---|")).AppendLine();
            foreach (IReadOnlyList<string> row in table.Rows)
            {
                md.Append("| ").AppendJoin(" | ", row.Select(Cell)).AppendLine(" |");
            }
        }

        md.AppendLine().AppendLine("## Plot").AppendLine();
        md.Append("![").Append(result.Plot.Title).Append("](").Append(plotFileName).AppendLine(")").AppendLine();
        md.AppendLine("## Machine").AppendLine();
        md.Append("- OS: ").AppendLine(machine.Os);
        md.Append("- Cores: ").AppendLine(machine.Cores.ToString(System.Globalization.CultureInfo.InvariantCulture));
        md.Append("- .NET: ").AppendLine(machine.DotNet);
        md.Append("- CPU: ").AppendLine(machine.Cpu ?? "unknown");
        md.Append("- Date: ").AppendLine(date.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
