using System.Threading.RateLimiting;

using Blueprint.Core.RateLimiting;

namespace Blueprint.Core.RateLimiting.Adapters;

/// <summary>
/// The in-process driver around a pure core: the core decides, this class adds the clock (an
/// injected <see cref="TimeProvider"/>) and a lock for callers on many threads.
/// Runs a pure <see cref="IRateLimitAlgorithm{TState}"/> as a <see cref="RateLimiter"/> for in-process use.
/// Time comes from the injected <see cref="TimeProvider"/> as <see cref="TimeSpan"/> ticks since construction.
/// Policers do not queue: <see cref="RateLimiter.AcquireAsync"/> answers at once, like <see cref="RateLimiter.AttemptAcquire"/>.
/// </summary>
/// <remarks>
/// A caller that will not wait gets a queued (delayed) decision rolled back by restoring a copy of the state taken
/// before it, so only a value-type state can be rolled back: a shaping algorithm, the only kind that delays, must
/// keep its state in a value type. A reference-type state such as <see cref="SlidingLogState"/> is fine for a policer.
/// </remarks>
/// <typeparam name="TState">The algorithm's state.</typeparam>
public class AlgorithmRateLimiter<TState> : RateLimiter
{
    private readonly IRateLimitAlgorithm<TState> _algorithm;
    private readonly TimeProvider _timeProvider;
    private readonly long _originTimestamp;
    private readonly Lock _gate = new();
    private TState _state;
    private long _lastDecisionTicks;
    private long _idleAfterTicks;
    private long _availablePermits;
    private long _successfulLeases;
    private long _failedLeases;
    private bool _disposed;

    /// <summary>Creates the adapter.</summary>
    /// <param name="algorithm">The algorithm; its tick parameters must be in <see cref="TimeSpan"/> ticks.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> in production, a fake in tests.</param>
    public AlgorithmRateLimiter(IRateLimitAlgorithm<TState> algorithm, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _algorithm = algorithm;
        _timeProvider = timeProvider;
        _originTimestamp = timeProvider.GetTimestamp();
        _state = algorithm.CreateState(0);
        _availablePermits = algorithm.Decide(ref _state, 0, 0).RemainingPermits;
    }

    /// <inheritdoc/>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                long now = NowTicks();
                return now >= _idleAfterTicks ? TimeSpan.FromTicks(now - _idleAfterTicks) : null;
            }
        }
    }

    /// <inheritdoc/>
    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = _availablePermits,
                CurrentQueuedCount = 0,
                TotalSuccessfulLeases = _successfulLeases,
                TotalFailedLeases = _failedLeases,
            };
        }
    }

    /// <summary>Gets the current time in ticks since construction.</summary>
    /// <returns>The ticks.</returns>
    protected long NowTicks() => _timeProvider.GetElapsedTime(_originTimestamp).Ticks;

    /// <summary>Gets the clock.</summary>
    protected TimeProvider TimeProvider => _timeProvider;

    /// <summary>Runs the algorithm under the lock and records statistics.</summary>
    /// <param name="permitCount">Permits requested.</param>
    /// <param name="commitDelayed">Whether a shaping decision with a delay is kept (true) or rolled back as a denial (false).</param>
    /// <returns>The decision.</returns>
    protected RateLimitDecision Decide(int permitCount, bool commitDelayed) => Decide(permitCount, commitDelayed, out _);

    /// <summary>Runs the algorithm under the lock, records statistics and reports the state the decision left.</summary>
    /// <param name="permitCount">Permits requested.</param>
    /// <param name="commitDelayed">Whether a shaping decision with a delay is kept (true) or rolled back as a denial (false).</param>
    /// <param name="after">The state right after the decision (after any rollback).</param>
    /// <returns>The decision.</returns>
    private protected RateLimitDecision Decide(int permitCount, bool commitDelayed, out TState after)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            long now = Math.Max(NowTicks(), _lastDecisionTicks);
            TState before = _state;
            RateLimitDecision decision = _algorithm.Decide(ref _state, now, permitCount);
            RateLimitDecision current = decision;
            if (decision.Allowed && decision.DelayTicks > 0 && !commitDelayed)
            {
                if (!typeof(TState).IsValueType)
                {
                    throw new InvalidOperationException($"{_algorithm.GetType().Name} delayed a request but keeps its state in the reference type {typeof(TState).Name}, which cannot be rolled back; a shaping algorithm must keep its state in a value type.");
                }

                // A caller that will not wait must not hold a place in the queue; the statistics then describe the
                // restored state, which a zero-permit decision reports without changing it.
                _state = before;
                decision = decision with { Allowed = false, RetryAfterTicks = decision.DelayTicks, DelayTicks = 0 };
                current = _algorithm.Decide(ref _state, now, 0);
            }

            _lastDecisionTicks = now;
            Record(now, current);
            after = _state;
            if (decision.Allowed)
            {
                _successfulLeases++;
            }
            else
            {
                _failedLeases++;
            }

            return decision;
        }
    }

    /// <summary>Rewrites the state under the lock and refreshes the statistics from it.</summary>
    /// <param name="rewrite">Returns the new state given the current one.</param>
    private protected void RewriteState(Func<TState, TState> rewrite)
    {
        lock (_gate)
        {
            _state = rewrite(_state);
            long now = Math.Max(NowTicks(), _lastDecisionTicks);
            _lastDecisionTicks = now;
            Record(now, _algorithm.Decide(ref _state, now, 0));
        }
    }

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        RateLimitDecision decision = Decide(permitCount, commitDelayed: false);
        return new DecisionLease(decision.Allowed, TimeSpan.FromTicks(decision.RetryAfterTicks));
    }

    /// <inheritdoc/>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(AttemptAcquireCore(permitCount));
    }

    /// <summary>Keeps the statistics of the state a decision at <paramref name="now"/> left.</summary>
    private void Record(long now, RateLimitDecision current)
    {
        _idleAfterTicks = now + current.ResetAfterTicks;
        _availablePermits = current.RemainingPermits;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }
}
