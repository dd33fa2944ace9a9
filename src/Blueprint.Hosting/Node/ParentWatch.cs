using System.Diagnostics;
using System.Globalization;

namespace Blueprint.Hosting;

/// <summary>
/// A node started by <c>blueprint cluster up</c> stops gracefully when that parent process is gone, so a parent killed
/// without the chance to stop its members (kill -9) leaves no orphan holding ports. The parent names itself in
/// <see cref="Variable"/>.
/// </summary>
public static class ParentWatch
{
    /// <summary>The environment variable naming the parent process.</summary>
    public const string Variable = "BLUEPRINT_EXIT_WITH_PARENT";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Stops <paramref name="node"/> once the process named in <see cref="Variable"/> is gone; returns at once when none is named.</summary>
    public static async Task StopWhenParentExitsAsync(BlueprintNode node, CancellationToken cancellationToken)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out var parentId))
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!IsAlive(parentId))
                {
                    await Console.Error.WriteLineAsync($"blueprint: parent process {parentId} is gone; stopping").ConfigureAwait(false);
                    node.App.Lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool IsAlive(int id)
    {
        try
        {
            using var process = Process.GetProcessById(id);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
