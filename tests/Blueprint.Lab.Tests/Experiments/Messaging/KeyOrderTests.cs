using Blueprint.Lab.Experiments.Messaging;

namespace Blueprint.Lab.Tests.Experiments.Messaging;

public sealed class KeyOrderTests
{
    [Fact]
    public void Processed_EachKeyInOrder_FindsNothingLate()
    {
        KeyOrder order = Replay((1, 0), (2, 0), (1, 1), (2, 1), (2, 2), (1, 2));
        Assert.Equal((6, 0, 0), (order.Count, order.Late, order.Duplicates));
    }

    [Fact]
    public void Processed_ARecordAfterALaterOneOfItsKey_CountsItLate()
    {
        // A broken history, as a requeue makes one: key 1's record 1 comes after its record 2.
        KeyOrder order = Replay((1, 0), (1, 2), (2, 0), (1, 1), (1, 3));
        Assert.Equal((5, 1, 0), (order.Count, order.Late, order.Duplicates));
    }

    [Fact]
    public void Processed_OtherKeysOutOfStep_AreNotLate()
    {
        KeyOrder order = Replay((1, 5), (2, 0), (3, 1), (2, 1));
        Assert.Equal(0, order.Late);
    }

    [Fact]
    public void Processed_TheSameRecordTwice_CountsADuplicateNotALateRecord()
    {
        KeyOrder order = Replay((1, 0), (1, 1), (1, 1));
        Assert.Equal((3, 0, 1), (order.Count, order.Late, order.Duplicates));
    }

    private static KeyOrder Replay(params (int Key, long Sequence)[] history)
    {
        KeyOrder order = new();
        foreach ((int key, long sequence) in history)
        {
            order.Processed(key, sequence);
        }

        return order;
    }
}
