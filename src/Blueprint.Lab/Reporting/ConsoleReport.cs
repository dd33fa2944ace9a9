using Blueprint.Lab.Experiments;

using Spectre.Console;

namespace Blueprint.Lab.Reporting;

/// <summary>Prints a result as Spectre.Console tables.</summary>
internal static class ConsoleReport
{
    public static void Write(IAnsiConsole console, ExperimentResult result)
    {
        console.WriteLine(result.Summary);
        console.WriteLine();
        Table claims = new Table().Title("Claims").AddColumns("claim", "expected (theory)", "measured", "verdict");
        foreach (Claim claim in result.Claims)
        {
            _ = claims.AddRow(
                new Text(claim.Statement),
                new Text(claim.Expected),
                new Text(claim.Measured),
                claim.Holds ? new Markup("[green]holds[/]") : new Markup("[red]does not hold[/]"));
        }

        console.Write(claims);
        foreach (ResultTable table in result.Tables)
        {
            Table rendered = new Table().Title(Markup.Escape(table.Title)).AddColumns([.. table.Headers.Select(h => new TableColumn(Markup.Escape(h)))]);
            foreach (IReadOnlyList<string> row in table.Rows)
            {
                _ = rendered.AddRow([.. row.Select(cell => new Text(cell))]);
            }

            console.Write(rendered);
        }
    }
}
