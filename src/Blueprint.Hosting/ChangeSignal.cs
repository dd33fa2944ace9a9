namespace Blueprint.Hosting;

/// <summary>
/// Wakes whoever waits for "something changed": <see cref="Next"/> is a task that completes at the following
/// <see cref="Pulse"/>, after which a fresh one is handed out. Waiters read the state, take <see cref="Next"/> first,
/// check, then await it, so a change between the check and the await is never missed.
/// </summary>
public sealed class ChangeSignal
{
    private readonly Lock gate = new();
    private TaskCompletionSource next = NewSource();

    /// <summary>Completes at the next <see cref="Pulse"/>.</summary>
    public Task Next
    {
        get
        {
            lock (gate)
            {
                return next.Task;
            }
        }
    }

    /// <summary>Completes the current <see cref="Next"/> (continuations run on the thread pool) and starts a new one.</summary>
    public void Pulse()
    {
        TaskCompletionSource previous;
        lock (gate)
        {
            previous = next;
            next = NewSource();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
