namespace Blueprint.Simulation.Raft.Checkers;

/// <summary>Liveness: once every fault heals, a write proposed after that commits and is acknowledged within a bounded number of steps.</summary>
/// <param name="boundSteps">The bound.</param>
public sealed class LivenessChecker(int boundSteps)
{
    private long _healedAt = -1;
    private bool _satisfied;

    /// <summary>The bound in steps.</summary>
    public int BoundSteps => boundSteps;

    /// <summary>Whether faults are healed and a write has since been acknowledged.</summary>
    public bool Satisfied => _healedAt >= 0 && _satisfied;

    /// <summary>How many healed windows were satisfied.</summary>
    public int WindowsSatisfied { get; private set; }

    /// <summary>Every fault healed at <paramref name="step"/>.</summary>
    /// <param name="step">The step.</param>
    public void OnHealed(long step)
    {
        _healedAt = step;
        _satisfied = false;
    }

    /// <summary>Faults resume; nothing is expected until the next heal.</summary>
    public void OnFaultsResumed() => _healedAt = -1;

    /// <summary>A write proposed at <paramref name="proposedAt"/> was acknowledged; returns whether it satisfied the current window.</summary>
    /// <param name="proposedAt">The step it was proposed at.</param>
    /// <returns>True when this acknowledgement is the first after the heal.</returns>
    public bool OnWriteAcknowledged(long proposedAt)
    {
        if (_healedAt < 0 || _satisfied || proposedAt < _healedAt)
        {
            return false;
        }

        _satisfied = true;
        WindowsSatisfied++;
        return true;
    }

    /// <summary>Checks the bound at <paramref name="step"/>.</summary>
    /// <param name="step">The current step.</param>
    /// <returns>The violation, or null.</returns>
    public string? Check(long step) =>
        _healedAt >= 0 && !_satisfied && step - _healedAt > boundSteps
            ? $"no write committed within {boundSteps} steps after faults healed at step {_healedAt}"
            : null;
}
