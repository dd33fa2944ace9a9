using System.Diagnostics;
using Xunit;

namespace Blueprint.Testing;

/// <summary>
/// Polls until a condition holds or a deadline passes: the one place tests wait for something that happens
/// "soon" (a replica catching up, a file appearing, a reload taking effect). It polls with a short backoff,
/// stops when the test is cancelled, and on timeout fails with a description built from what was seen at the
/// deadline, not from what was expected.
/// </summary>
public static class Eventually
{
    /// <summary>The first pause between two polls; each later one doubles, up to <see cref="PauseMax"/>.</summary>
    public static readonly TimeSpan PauseFirst = TimeSpan.FromMilliseconds(5);

    /// <summary>The longest pause between two polls.</summary>
    public static readonly TimeSpan PauseMax = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="condition"/> is true.</summary>
    /// <param name="condition">Polled first at once, then after each pause.</param>
    /// <param name="deadline">How long to keep polling.</param>
    /// <param name="describe">Called once at the deadline, after the last poll, for the failure message: it can show the values then.</param>
    /// <param name="cancellationToken">Stops the wait; the current test's token when not given.</param>
    /// <exception cref="TimeoutException">The condition was still false at the deadline.</exception>
    public static Task TrueAsync(Func<bool> condition, TimeSpan deadline, Func<string> describe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return TrueAsync(() => Task.FromResult(condition()), deadline, describe, cancellationToken);
    }

    /// <summary>Waits until the asynchronous <paramref name="condition"/> is true.</summary>
    /// <param name="condition">Polled first at once, then after each pause (never two at a time).</param>
    /// <param name="deadline">How long to keep polling.</param>
    /// <param name="describe">Called once at the deadline, after the last poll, for the failure message: it can show the values then.</param>
    /// <param name="cancellationToken">Stops the wait; the current test's token when not given.</param>
    /// <exception cref="TimeoutException">The condition was still false at the deadline.</exception>
    public static Task TrueAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> describe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(describe);
        return ValueAsync(condition, holds => holds, deadline, _ => describe(), cancellationToken);
    }

    /// <summary>Reads a value until <paramref name="accept"/> takes it, and returns that value.</summary>
    /// <param name="read">Called first at once, then after each pause (never two at a time).</param>
    /// <param name="accept">Whether a value read is the one waited for.</param>
    /// <param name="deadline">How long to keep reading.</param>
    /// <param name="describe">Called once at the deadline with the last value read (read at or after the deadline), for the failure message.</param>
    /// <param name="cancellationToken">Stops the wait; the current test's token when not given.</param>
    /// <exception cref="TimeoutException">No value read up to the deadline was accepted.</exception>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> accept, TimeSpan deadline, Func<T, string> describe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(accept);
        ArgumentNullException.ThrowIfNull(describe);
        var token = cancellationToken.CanBeCanceled ? cancellationToken : TestContext.Current.CancellationToken;
        var started = Stopwatch.GetTimestamp();
        var pause = PauseFirst;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            var value = await read();
            if (accept(value))
            {
                return value;
            }

            var left = deadline - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"not within {Seconds(deadline)}: {describe(value)}");
            }

            // The last pause ends at the deadline, so the last read (the one described) is made then.
            await Task.Delay(pause < left ? pause : left, token);
            pause = pause * 2 < PauseMax ? pause * 2 : PauseMax;
        }
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.###} s";
}
