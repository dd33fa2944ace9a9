using System.Text;

namespace Blueprint.Testing.Linearizability;

/// <summary>
/// The search over one key's operations. The history is a linked list of call and return events in time
/// order. Walking from the head, a call whose operation the model accepts is linearized: its call and
/// return are lifted out of the list and the walk restarts. Reaching a return means the operation it
/// closes must already have been linearized, so the search backtracks. A (linearized set, state) pair seen
/// before is not explored again (Lowe's memoisation), which turns the exponential search into one bounded
/// by the number of distinct configurations.
/// </summary>
internal sealed class LinearizabilitySearch<TState>
{
    private const int CancellationCheckIntervalSteps = 1024;
    private const int PrefixShownMax = 12;

    private readonly string key;
    private readonly IReadOnlyList<PairedOperation> operations;
    private readonly IModel<TState> model;
    private readonly Entry head;

    public LinearizabilitySearch(string key, IReadOnlyList<PairedOperation> operations, IModel<TState> model)
    {
        this.key = key;
        this.operations = operations;
        this.model = model;
        head = BuildList(operations);
    }

    public KeyResult Run(long stepsMax, CancellationToken cancellationToken)
    {
        var linearized = new Bitset(operations.Count);
        var cache = new HashSet<CacheKey>(new CacheKeyComparer(model.StateComparer));
        TState state = model.Initial;
        Frame? top = null;
        Frame? longest = null;
        Entry? entry = head.Next;
        int alternative = 0;
        long steps = 0;
        while (head.Next is not null)
        {
            if (steps >= stepsMax || (steps % CancellationCheckIntervalSteps == 0 && cancellationToken.IsCancellationRequested))
            {
                return Report(Verdict.Unknown, steps, longest);
            }

            steps++;
            Invariant(entry is not null, "the walk ends at a return before it runs off the list");
            if (entry!.IsCall)
            {
                if (TryPlace(entry, ref alternative, state, linearized, cache, out TState next))
                {
                    top = new Frame(entry, state, next, alternative, top);
                    if (top.Depth > (longest?.Depth ?? 0))
                    {
                        longest = top;
                    }

                    state = next;
                    linearized.Set(entry.Id);
                    Lift(entry);
                    entry = head.Next;
                    alternative = 0;
                }
                else
                {
                    entry = entry.Next;
                    alternative = 0;
                }
            }
            else
            {
                if (top is null)
                {
                    return Report(Verdict.NotLinearizable, steps, longest);
                }

                // The operation closing here was never linearized: undo the last choice and try the next one.
                entry = top.Entry;
                state = top.StateBefore;
                alternative = top.Alternative + 1;
                linearized.Clear(entry.Id);
                Unlift(entry);
                top = top.Parent;
            }
        }

        return Report(Verdict.Linearizable, steps, longest);
    }

    /// <summary>
    /// Tries the ways an operation can be placed, from <paramref name="alternative"/> on: 0 takes effect as
    /// the model says; 1, for an indeterminate operation only, does not take effect. A placement is taken
    /// only if its (linearized set, state) pair is new.
    /// </summary>
    private bool TryPlace(Entry entry, ref int alternative, TState state, Bitset linearized, HashSet<CacheKey> cache, out TState next)
    {
        int alternatives = entry.Operation.IsIndeterminate ? 2 : 1;
        for (; alternative < alternatives; alternative++)
        {
            bool legal;
            (legal, next) = alternative == 0 ? model.Apply(state, entry.Operation) : (true, state);
            if (!legal)
            {
                continue;
            }

            linearized.Set(entry.Id);
            var probe = new CacheKey(linearized.Words, linearized.Hash(), next);
            bool seen = cache.Contains(probe);
            if (!seen)
            {
                cache.Add(probe with { Words = linearized.CopyWords() });
            }

            linearized.Clear(entry.Id);
            if (!seen)
            {
                return true;
            }
        }

        next = state;
        return false;
    }

    private KeyResult Report(Verdict verdict, long steps, Frame? longest)
    {
        var prefix = new List<LinearizedOperation>();
        for (Frame? frame = longest; frame is not null; frame = frame.Parent)
        {
            prefix.Add(new LinearizedOperation(frame.Entry.Operation, frame.Alternative == 0, model.Describe(frame.StateAfter)));
        }

        prefix.Reverse();
        if (verdict == Verdict.Linearizable)
        {
            return new KeyResult(key, verdict, operations.Count, steps)
            {
                LongestPrefix = prefix,
                Explanation = $"key \"{key}\": linearizable; {operations.Count} operation(s), {steps} step(s).",
            };
        }

        TState stateAfter = longest is null ? model.Initial : longest.StateAfter;
        IReadOnlyList<UnplacedOperation> unplaced = verdict == Verdict.NotLinearizable ? Unplaced(longest, stateAfter) : [];
        var text = new StringBuilder();
        text.Append(verdict == Verdict.NotLinearizable
            ? $"key \"{key}\": not linearizable; {operations.Count} operation(s), {steps} step(s)."
            : $"key \"{key}\": unknown, the search stopped after {steps} step(s); {operations.Count} operation(s).");
        text.AppendLine();
        text.AppendLine($"Longest linearizable prefix found: {prefix.Count} of {operations.Count} operation(s), from the initial state {model.Describe(model.Initial)}:");
        int skipped = Math.Max(0, prefix.Count - PrefixShownMax);
        if (skipped > 0)
        {
            text.AppendLine($"  ... {skipped} earlier operation(s)");
        }

        foreach (LinearizedOperation step in prefix.Skip(skipped))
        {
            text.AppendLine($"  {step}");
        }

        if (verdict == Verdict.NotLinearizable)
        {
            text.AppendLine($"After it the state is {model.Describe(stateAfter)}, and none of the operations that may come next fits:");
            foreach (UnplacedOperation operation in unplaced)
            {
                text.AppendLine($"  {operation}");
            }
        }

        return new KeyResult(key, verdict, operations.Count, steps)
        {
            LongestPrefix = prefix,
            Unplaced = unplaced,
            Explanation = text.ToString().TrimEnd(),
        };
    }

    /// <summary>
    /// The operations that may come right after the prefix: those not in it invoked before the earliest
    /// return among them. Each either breaks the model there or leads only to dead ends.
    /// </summary>
    private List<UnplacedOperation> Unplaced(Frame? longest, TState stateAfter)
    {
        var placed = new HashSet<int>();
        for (Frame? frame = longest; frame is not null; frame = frame.Parent)
        {
            placed.Add(frame.Entry.Id);
        }

        var remaining = operations.Where((_, id) => !placed.Contains(id)).ToList();
        long firstReturn = remaining.Min(o => o.ReturnIndex);
        var unplaced = new List<UnplacedOperation>();
        foreach (PairedOperation operation in remaining.Where(o => o.CallIndex < firstReturn))
        {
            (bool legal, _) = model.Apply(stateAfter, operation);
            string reason = legal
                ? "legal here, but no order of the remaining operations follows it"
                : $"the model refuses it in state {model.Describe(stateAfter)}";
            unplaced.Add(new UnplacedOperation(operation, reason));
        }

        return unplaced;
    }

    private static Entry BuildList(IReadOnlyList<PairedOperation> operations)
    {
        var events = new List<Entry>(operations.Count * 2);
        for (int id = 0; id < operations.Count; id++)
        {
            var call = new Entry(id, operations[id], isCall: true);
            var ret = new Entry(id, operations[id], isCall: false);
            call.Match = ret;
            events.Add(call);
            events.Add(ret);
        }

        // Real-time order; a call before a return at the same time, so that operations touching overlap.
        events.Sort((a, b) =>
        {
            int byTime = a.Time.CompareTo(b.Time);
            return byTime != 0 ? byTime : a.IsCall != b.IsCall ? (a.IsCall ? -1 : 1) : a.Id.CompareTo(b.Id);
        });
        var head = new Entry(-1, null!, isCall: false);
        Entry last = head;
        foreach (Entry e in events)
        {
            last.Next = e;
            e.Prev = last;
            last = e;
        }

        return head;
    }

    /// <summary>Takes a call and its return out of the list; the return always follows the call.</summary>
    private static void Lift(Entry call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        Entry ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null)
        {
            ret.Next.Prev = ret.Prev;
        }
    }

    /// <summary>Puts back what <see cref="Lift"/> took out, in reverse order.</summary>
    private static void Unlift(Entry call)
    {
        Entry ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null)
        {
            ret.Next.Prev = ret;
        }

        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }

    private static void Invariant(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"linearizability search invariant broken: {message}");
        }
    }

    private sealed class Entry(int id, PairedOperation operation, bool isCall)
    {
        public int Id { get; } = id;

        public PairedOperation Operation { get; } = operation;

        public bool IsCall { get; } = isCall;

        public long Time => IsCall ? Operation.CallIndex : Operation.ReturnIndex;

        public Entry? Match { get; set; }

        public Entry? Prev { get; set; }

        public Entry? Next { get; set; }
    }

    /// <summary>One choice on the search stack; immutable, so the longest prefix is kept by reference.</summary>
    private sealed class Frame(Entry entry, TState stateBefore, TState stateAfter, int alternative, Frame? parent)
    {
        public Entry Entry { get; } = entry;

        public TState StateBefore { get; } = stateBefore;

        public TState StateAfter { get; } = stateAfter;

        public int Alternative { get; } = alternative;

        public Frame? Parent { get; } = parent;

        public int Depth { get; } = (parent?.Depth ?? 0) + 1;
    }

    private readonly record struct CacheKey(ulong[] Words, int WordsHash, TState State);

    private sealed class CacheKeyComparer(IEqualityComparer<TState> states) : IEqualityComparer<CacheKey>
    {
        public bool Equals(CacheKey x, CacheKey y) =>
            x.WordsHash == y.WordsHash && states.Equals(x.State, y.State) && x.Words.AsSpan().SequenceEqual(y.Words);

        public int GetHashCode(CacheKey obj) => HashCode.Combine(obj.WordsHash, obj.State is null ? 0 : states.GetHashCode(obj.State));
    }
}
