namespace Blueprint.Log.Groups;

/// <summary>
/// A one-shot deadline on the injected <see cref="TimeProvider"/>, re-armed for each new deadline. Arming, cancelling and
/// expiring all happen under the owning group's lock, so a firing that a later <see cref="Arm"/> or
/// <see cref="Cancel"/> overtook is recognised in <see cref="TryExpire"/> and ignored (or re-armed for what remains).
/// Delays are at least one millisecond: a zero due time makes some timer implementations (the fake one in tests)
/// call back synchronously, inside the lock of the code that is still arming it. An early or late firing is harmless:
/// the deadline is checked against <see cref="TimeProvider.GetTimestamp"/> when the timer fires.
/// </summary>
internal sealed class GroupTimer : IDisposable
{
    private static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest due time timers accept (2^32 - 2 ms, about 49 days); a longer deadline is clamped to it.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly TimeProvider _time;
    private readonly Action<GroupTimer> _onFire;
    private readonly ITimer _timer;
    private long _dueTimestamp;

    /// <summary>Creates an unarmed timer; <paramref name="onFire"/> runs on a timer thread and must take the group's lock and call <see cref="TryExpire"/>.</summary>
    public GroupTimer(TimeProvider time, Action<GroupTimer> onFire)
    {
        _time = time;
        _onFire = onFire;
        _timer = time.CreateTimer(static state => ((GroupTimer)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether a deadline is set and has not expired.</summary>
    public bool IsArmed { get; private set; }

    /// <summary>Sets the deadline to <paramref name="delay"/> from now, replacing any earlier one.</summary>
    public void Arm(TimeSpan delay)
    {
        delay = delay < Shortest ? Shortest : delay > Longest ? Longest : delay;

        _dueTimestamp = _time.GetTimestamp() + (long)(delay.Ticks * ((double)_time.TimestampFrequency / TimeSpan.TicksPerSecond));
        IsArmed = true;
        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Clears the deadline.</summary>
    public void Cancel()
    {
        IsArmed = false;
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True (and disarmed) when the deadline has come; false for a firing that is stale or early (re-armed for the rest).</summary>
    public bool TryExpire()
    {
        if (!IsArmed)
        {
            return false;
        }

        TimeSpan remaining = _time.GetElapsedTime(_time.GetTimestamp(), _dueTimestamp);
        if (remaining > TimeSpan.Zero)
        {
            _timer.Change(remaining < Shortest ? Shortest : remaining > Longest ? Longest : remaining, Timeout.InfiniteTimeSpan);
            return false;
        }

        IsArmed = false;
        return true;
    }

    /// <summary>Stops the timer for good.</summary>
    public void Dispose()
    {
        IsArmed = false;
        _timer.Dispose();
    }

    private void Fire() => _onFire(this);
}
