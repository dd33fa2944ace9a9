namespace Blueprint.Core.Resilience;

/// <summary>
/// A retry budget (Finagle's, Envoy's): retries may add at most <see cref="Percent"/> percent to the
/// requests sent, plus a small reserve of <see cref="MinPerSecond"/> retries each second so a quiet
/// service can still retry. A fixed retry count alone multiplies load exactly when a backend is
/// failing (three attempts per request triple it); a budget caps the multiplier at 1 + percent/100.
/// </summary>
/// <remarks>
/// Every request deposits <c>percent / 100</c> of a retry; a retry withdraws one, from the per-second
/// reserve first. The deposited balance is capped at <see cref="BalanceMax"/>, so a long quiet spell
/// does not save up a storm. Time is passed in (milliseconds on any monotonic clock): no clock is read here.
/// </remarks>
public sealed class RetryBudget
{
    private readonly Lock _lock = new();
    private double _balance;
    private double _reserve;
    private long? _reserveAtMs;

    /// <summary>Creates a budget.</summary>
    /// <param name="percent">Retries allowed as a share of requests, from 0 to 100.</param>
    /// <param name="minPerSecond">Retries always allowed per second, at least 0.</param>
    /// <param name="balanceMax">The most retries the deposits can save up, at least 1.</param>
    public RetryBudget(double percent, int minPerSecond, int balanceMax = 100)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        ArgumentOutOfRangeException.ThrowIfNegative(minPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(balanceMax, 1);
        Percent = percent;
        MinPerSecond = minPerSecond;
        BalanceMax = balanceMax;
    }

    /// <summary>Retries allowed as a share of requests, in percent.</summary>
    public double Percent { get; }

    /// <summary>Retries always allowed per second.</summary>
    public int MinPerSecond { get; }

    /// <summary>The most retries the deposits can save up.</summary>
    public int BalanceMax { get; }

    /// <summary>Records one request (not a retry): it deposits its share of a retry.</summary>
    public void Deposit()
    {
        lock (_lock)
        {
            _balance = Math.Min(BalanceMax, _balance + (Percent / 100));
        }
    }

    /// <summary>Withdraws one retry if the budget allows it.</summary>
    /// <param name="nowMs">The current time in milliseconds, on a clock that never goes back.</param>
    /// <returns>Whether the retry may be sent.</returns>
    public bool TryWithdraw(long nowMs)
    {
        lock (_lock)
        {
            var elapsedMs = _reserveAtMs is { } at ? Math.Max(0, nowMs - at) : 1000;
            _reserve = Math.Min(MinPerSecond, _reserve + (elapsedMs * MinPerSecond / 1000.0));
            _reserveAtMs = nowMs;
            if (_reserve >= 1)
            {
                _reserve -= 1;
                return true;
            }

            if (_balance >= 1)
            {
                _balance -= 1;
                return true;
            }

            return false;
        }
    }
}
