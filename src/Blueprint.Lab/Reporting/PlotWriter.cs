using Blueprint.Lab.Experiments;

using ScottPlot;

namespace Blueprint.Lab.Reporting;

/// <summary>Renders a <see cref="PlotSpec"/> to PNG with ScottPlot (which needs fontconfig and a font on Linux).</summary>
public static class PlotWriter
{
    private const int WidthPixels = 1000;
    private const int HeightPixels = 560;

    /// <summary>Writes <paramref name="spec"/> as a PNG.</summary>
    /// <param name="spec">The plot.</param>
    /// <param name="path">The PNG path.</param>
    public static void Write(PlotSpec spec, string path)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using Plot plot = new();
        foreach (PlotSeries series in spec.Series)
        {
            ScottPlot.Plottables.Scatter line = plot.Add.Scatter(series.Xs.ToArray(), series.Ys.ToArray());
            line.LegendText = series.Label;
            line.LineWidth = 2;
            line.MarkerSize = series.Markers ? 7 : 0;
        }

        plot.Title(spec.Title);
        plot.XLabel(spec.XLabel);
        plot.YLabel(spec.YLabel);
        plot.ShowLegend(Alignment.UpperRight);
        _ = plot.SavePng(path, WidthPixels, HeightPixels);
    }
}
