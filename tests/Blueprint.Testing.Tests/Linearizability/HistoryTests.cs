using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

public sealed class HistoryTests
{
    [Fact]
    public void From_ProcessWithTwoOutstandingInvocations_ThrowsNamingTheProcess()
    {
        Operation[] events =
        [
            Operation.InvokeWrite(3, "x", "1", 0),
            Operation.InvokeRead(3, "x", 1),
        ];

        var error = Assert.Throws<MalformedHistoryException>(() => History.From(events));

        Assert.Contains("process 3 invokes", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void From_CompletionWithoutInvocation_Throws()
    {
        Operation[] events = [new(4, OperationKind.Ok, OperationFunction.Read, "x", 0) { Value = "1" }];

        var error = Assert.Throws<MalformedHistoryException>(() => History.From(events));

        Assert.Contains("no outstanding invocation by process 4", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void From_CompletionOfAnotherKey_Throws()
    {
        Operation[] events =
        [
            Operation.InvokeRead(0, "x", 0),
            new(0, OperationKind.Ok, OperationFunction.Read, "y", 1),
        ];

        Assert.Throws<MalformedHistoryException>(() => History.From(events));
    }

    [Fact]
    public void From_SeveralProblems_ReportsEveryOne()
    {
        Operation[] events =
        [
            Operation.InvokeRead(0, "x", 0),
            Operation.InvokeRead(0, "x", 1),
            new(1, OperationKind.Ok, OperationFunction.Read, "x", 2),
            new(2, OperationKind.Fail, OperationFunction.Read, "x", 2),
        ];

        var error = Assert.Throws<MalformedHistoryException>(() => History.From(events));

        Assert.Equal(4, error.Problems.Count);
    }

    [Fact]
    public void From_EventsOutOfOrder_PairedByIndex()
    {
        Operation[] events =
        [
            new(0, OperationKind.Ok, OperationFunction.Read, "x", 5) { Value = "1" },
            Operation.InvokeCas(1, "x", "0", "1", 1),
            Operation.InvokeRead(0, "x", 2),
            new(1, OperationKind.Info, OperationFunction.Cas, "x", 3),
            Operation.InvokeWrite(2, "x", "9", 4),
            new(2, OperationKind.Fail, OperationFunction.Write, "x", 6),
        ];

        History history = History.From(events);

        Assert.Equal(1, history.FailedCount);
        Assert.Collection(
            history.Operations,
            cas =>
            {
                Assert.Equal((1, 1, long.MaxValue), (cas.Process, cas.CallIndex, cas.ReturnIndex));
                Assert.True(cas.IsIndeterminate);
                Assert.Equal(("0", "1"), (cas.Expected, cas.Input));
            },
            read =>
            {
                Assert.Equal((0, 2, 5), (read.Process, read.CallIndex, read.ReturnIndex));
                Assert.Equal("1", read.Output);
            });
    }

    [Fact]
    public void Recorder_InvocationWhileOutstanding_Throws()
    {
        var recorder = new HistoryRecorder();
        recorder.Read(0, "x");

        Assert.Throws<InvalidOperationException>(() => recorder.Read(0, "x"));
    }

    [Fact]
    public void Recorder_CompletedTwice_Throws()
    {
        var recorder = new HistoryRecorder();
        PendingOperation read = recorder.Read(0, "x");
        read.Ok("1");

        Assert.Throws<InvalidOperationException>(read.Info);
    }

    [Fact]
    public void Recorder_ConcurrentClientsOnLockedStore_HistoryIsWellFormedAndLinearizable()
    {
        const int clients = 4;
        const int operationsPerClient = 200;
        var recorder = new HistoryRecorder();
        var store = new Dictionary<string, string?>();
        var gate = new Lock();
        using var start = new Barrier(clients);
        Thread[] threads = Enumerable.Range(0, clients).Select(process => new Thread(() =>
        {
            var random = new Random(process);
            start.SignalAndWait();
            for (int i = 0; i < operationsPerClient; i++)
            {
                string key = $"k{random.Next(3)}";
                string value = $"{process}-{i}";
                switch (random.Next(3))
                {
                    case 0:
                        PendingOperation read = recorder.Read(process, key);
                        string? seen;
                        lock (gate)
                        {
                            seen = store.GetValueOrDefault(key);
                        }

                        read.Ok(seen);
                        break;
                    case 1:
                        PendingOperation write = recorder.Write(process, key, value);
                        lock (gate)
                        {
                            store[key] = value;
                        }

                        write.Ok();
                        break;
                    default:
                        string? expected;
                        lock (gate)
                        {
                            expected = store.GetValueOrDefault(key);
                        }

                        PendingOperation cas = recorder.Cas(process, key, expected, value);
                        bool wrote;
                        lock (gate)
                        {
                            wrote = store.GetValueOrDefault(key) == expected;
                            if (wrote)
                            {
                                store[key] = value;
                            }
                        }

                        cas.Ok(succeeded: wrote);
                        break;
                }
            }
        })).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        History history = recorder.ToHistory();
        LinearizabilityResult result = LinearizabilityChecker.CheckRegisters(history, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(clients * operationsPerClient, history.Operations.Count);
        Assert.True(result.Verdict == Verdict.Linearizable, result.Explanation);
    }
}
