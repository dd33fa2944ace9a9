namespace Blueprint.Lab.Experiments.Eviction;

/// <summary>
/// Doubly linked lists threaded through the slots 0 … n − 1 of a fixed-size cache, without allocation per entry. A slot
/// is in at most one list at a time; each list is a head (oldest) and tail (newest) pair that the caller keeps.
/// </summary>
internal sealed class SlotLinks(int slots)
{
    /// <summary>The head or tail of an empty list, and the neighbour of an end.</summary>
    public const int None = -1;

    private readonly int[] _previous = new int[slots];
    private readonly int[] _next = new int[slots];

    /// <summary>Takes <paramref name="slot"/> out of the list from <paramref name="head"/> to <paramref name="tail"/>.</summary>
    public void Unlink(int slot, ref int head, ref int tail)
    {
        int previous = _previous[slot];
        int next = _next[slot];
        if (previous == None)
        {
            head = next;
        }
        else
        {
            _next[previous] = next;
        }

        if (next == None)
        {
            tail = previous;
        }
        else
        {
            _previous[next] = previous;
        }
    }

    /// <summary>Appends <paramref name="slot"/> at the tail of the list from <paramref name="head"/> to <paramref name="tail"/>.</summary>
    public void LinkLast(int slot, ref int head, ref int tail)
    {
        _previous[slot] = tail;
        _next[slot] = None;
        if (tail == None)
        {
            head = slot;
        }
        else
        {
            _next[tail] = slot;
        }

        tail = slot;
    }
}
