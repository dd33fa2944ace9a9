namespace Blueprint.Lab.Experiments;

/// <summary>One cheat-sheet claim with its expectation, measurement and verdict.</summary>
/// <param name="Id">A short stable identifier.</param>
/// <param name="Statement">The claim as the cheat sheet states it.</param>
/// <param name="Expected">The theoretical expectation, with formula and tolerance.</param>
/// <param name="Measured">What the experiment measured.</param>
/// <param name="Holds">Whether the measurement is within the stated tolerance.</param>
public sealed record Claim(string Id, string Statement, string Expected, string Measured, bool Holds);

/// <summary>A table of measurements.</summary>
/// <param name="Title">The table title.</param>
/// <param name="Headers">The column headers.</param>
/// <param name="Rows">The rows, one cell per header.</param>
public sealed record ResultTable(string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>One line of a plot.</summary>
/// <param name="Label">The legend text.</param>
/// <param name="Xs">The x values.</param>
/// <param name="Ys">The y values.</param>
/// <param name="Markers">Whether to draw markers (points) in addition to the line.</param>
public sealed record PlotSeries(string Label, IReadOnlyList<double> Xs, IReadOnlyList<double> Ys, bool Markers = false);

/// <summary>A line plot.</summary>
/// <param name="Title">The plot title.</param>
/// <param name="XLabel">The x-axis label.</param>
/// <param name="YLabel">The y-axis label.</param>
/// <param name="Series">The lines.</param>
public sealed record PlotSpec(string Title, string XLabel, string YLabel, IReadOnlyList<PlotSeries> Series);

/// <summary>Everything an experiment measured.</summary>
/// <param name="Experiment">The experiment name.</param>
/// <param name="Summary">One paragraph on what was run.</param>
/// <param name="Claims">The claims with verdicts.</param>
/// <param name="Tables">Supporting measurements.</param>
/// <param name="Plot">The plot to render.</param>
public sealed record ExperimentResult(string Experiment, string Summary, IReadOnlyList<Claim> Claims, IReadOnlyList<ResultTable> Tables, PlotSpec Plot);
