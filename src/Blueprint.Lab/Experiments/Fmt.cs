using System.Globalization;

namespace Blueprint.Lab.Experiments;

/// <summary>Invariant number formatting for tables and claims.</summary>
internal static class Fmt
{
    public static string Pct(double fraction, int decimals = 2) => (fraction * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%";

    public static string Num(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    public static string Int(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="measured"/> lies within ±<paramref name="relativeTolerance"/> of <paramref name="expected"/>.</summary>
    public static bool Within(double measured, double expected, double relativeTolerance) =>
        Math.Abs(measured - expected) <= Math.Abs(expected) * relativeTolerance;
}
