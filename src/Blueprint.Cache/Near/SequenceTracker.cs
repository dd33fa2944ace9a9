namespace Blueprint.Cache.Near;

/// <summary>
/// Which invalidation sequences one instance has applied, per stream (a partition of the key space, or the stream
/// of tag removals), and whether a sequence read from the server proves one was lost: the gap detection of
/// Hazelcast's near cache (<c>RepairingHandler</c>/<c>MetaDataContainer</c>), kept exact rather than approximate.
/// </summary>
/// <remarks>
/// Every write increments its stream's sequence on the server and publishes the new value. Per stream the tracker
/// keeps a baseline B (every sequence up to B is accounted for) and the set of sequences above B received since.
/// Reconciliation reads the server's sequence S: the sequences in (B, S] were all issued, so if fewer of them were
/// received than S − B, at least one invalidation was lost. Messages may arrive out of order (two writers increment
/// in one order and publish in the other), which is why the tracker counts rather than compares with a maximum.
/// Pure: no I/O, no clock; thread-safe with one lock per stream (messages and reconciliation are both rare next to reads).
/// </remarks>
internal sealed class SequenceTracker
{
    /// <summary>
    /// The most sequences above the baseline one stream remembers between two reconciliations; past it the stream
    /// forgets them and its next reconciliation reports a gap (the conservative answer: drop, never serve stale).
    /// </summary>
    public const int PendingMax = 4096;

    private readonly Stream[] _streams;

    /// <summary>Creates a tracker of <paramref name="streamCount"/> streams, all at baseline 0.</summary>
    public SequenceTracker(int streamCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(streamCount, 1);
        _streams = new Stream[streamCount];
        for (var i = 0; i < streamCount; i++)
        {
            _streams[i] = new Stream();
        }
    }

    /// <summary>The number of streams.</summary>
    public int StreamCount => _streams.Length;

    /// <summary>Records that the invalidation with <paramref name="sequence"/> of <paramref name="stream"/> was applied.</summary>
    public void Received(int stream, long sequence)
    {
        var state = _streams[stream];
        lock (state)
        {
            if (sequence <= state.Baseline || state.Overflowed)
            {
                return;
            }

            if (state.Pending.Count >= PendingMax)
            {
                state.Pending.Clear();
                state.Overflowed = true;
                return;
            }

            state.Pending.Add(sequence);
        }
    }

    /// <summary>Starts accounting at the server's current sequences: what was issued before is not this instance's concern.</summary>
    /// <param name="serverSequences">The server's sequence per stream (0 for a stream never written).</param>
    public void Reset(IReadOnlyList<long> serverSequences)
    {
        ArgumentNullException.ThrowIfNull(serverSequences);
        for (var i = 0; i < _streams.Length; i++)
        {
            var state = _streams[i];
            lock (state)
            {
                state.Baseline = serverSequences[i];
                state.Pending.RemoveWhere(sequence => sequence <= state.Baseline);
                state.Overflowed = false;
            }
        }
    }

    /// <summary>
    /// Compares one stream with the server's sequence, moves its baseline to it, and says whether an invalidation in
    /// between was never received.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="serverSequence">The server's sequence, read after every invalidation the caller wants to account for.</param>
    /// <returns><see langword="true"/> when at least one sequence up to <paramref name="serverSequence"/> was not received.</returns>
    public bool Reconcile(int stream, long serverSequence)
    {
        var state = _streams[stream];
        lock (state)
        {
            if (serverSequence == state.Baseline && !state.Overflowed)
            {
                return false;
            }

            if (serverSequence < state.Baseline)
            {
                // The server's sequences went back (a restart without persistence): nothing is known, so all is suspect.
                state.Baseline = serverSequence;
                state.Pending.Clear();
                state.Overflowed = false;
                return true;
            }

            var issued = serverSequence - state.Baseline;
            var received = state.Pending.Count(sequence => sequence <= serverSequence);
            var gap = state.Overflowed || received < issued;
            state.Baseline = serverSequence;
            state.Pending.RemoveWhere(sequence => sequence <= state.Baseline);
            state.Overflowed = false;
            return gap;
        }
    }

    private sealed class Stream
    {
        public long Baseline;
        public bool Overflowed;
        public readonly HashSet<long> Pending = [];
    }
}
