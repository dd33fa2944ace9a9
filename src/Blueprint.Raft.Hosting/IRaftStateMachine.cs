namespace Blueprint.Raft.Hosting;

/// <summary>
/// The replicated state machine a <see cref="RaftHost"/> drives. Every method runs on the host's driver loop, one at
/// a time, so an implementation needs no locking against the host; it must be deterministic: the same commands in the
/// same order give the same state and results on every node.
/// </summary>
public interface IRaftStateMachine
{
    /// <summary>Applies one committed command.</summary>
    /// <param name="index">The log index of the command.</param>
    /// <param name="command">The command bytes as proposed.</param>
    /// <returns>The result handed to the proposer (on the node that proposed it; other nodes drop it).</returns>
    byte[] Apply(long index, ReadOnlyMemory<byte> command);

    /// <summary>Takes an image of the whole state, covering every command applied so far.</summary>
    /// <returns>The image bytes.</returns>
    byte[] TakeSnapshot();

    /// <summary>
    /// Captures the whole state now, cheaply, on the driver loop, and returns a function that encodes it later on
    /// another thread, to the bytes <see cref="TakeSnapshot"/> would have given now, whatever is applied meanwhile.
    /// The host snapshots this way so that encoding a large state does not stall the loop. The default takes the
    /// snapshot at once.
    /// </summary>
    /// <returns>The encoder of the captured state; thread-safe, called once.</returns>
    Func<byte[]> CaptureSnapshot()
    {
        var image = TakeSnapshot();
        return () => image;
    }

    /// <summary>Replaces the whole state by an image taken with <see cref="TakeSnapshot"/>.</summary>
    /// <param name="snapshot">The image bytes; empty for the state before any command.</param>
    void Restore(ReadOnlyMemory<byte> snapshot);
}
