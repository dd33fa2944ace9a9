using System.Diagnostics;

namespace Blueprint.Bench;

/// <summary>
/// Starts sends from a start time until an end: flat out with at most a window's count in flight, or paced at a rate
/// under the same bound; then waits for those in flight. Each send releases the window once done.
/// </summary>
internal static class Pacer
{
    /// <summary>Runs the sends; <paramref name="send"/> gets the sequence number and must release <paramref name="window"/> when done.</summary>
    /// <param name="rate">Sends per second, or 0 for flat out.</param>
    /// <param name="window">The bound of sends in flight; <paramref name="windowSize"/> slots, all free.</param>
    /// <param name="windowSize">Its slots.</param>
    /// <param name="start">When the sends began, a <see cref="Stopwatch"/> timestamp (the pace counts from it).</param>
    /// <param name="to">When they stop.</param>
    /// <param name="send">Starts one send (not awaited).</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task RunAsync(int rate, SemaphoreSlim window, int windowSize, long start, long to, Action<long> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(send);
        long sequence = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= to)
            {
                break;
            }

            if (rate > 0 && sequence >= (now - start) * rate / Stopwatch.Frequency)
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await window.WaitAsync(cancellationToken).ConfigureAwait(false);
            send(sequence++);
        }

        for (var i = 0; i < windowSize; i++)
        {
            await window.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
