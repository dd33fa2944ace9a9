using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>One scheduler decision: which client moves, and the numbers that choose what it does.</summary>
internal readonly record struct SimulationStep(int Process, int Action, int Key, int Value);

/// <summary>
/// Clients of a linearizable register store, interleaved by a generated schedule. Each operation takes
/// effect atomically between its invocation and its completion, so every history it records is
/// linearizable. Timeouts (info) land before the effect, after it, or never; failures never land.
/// </summary>
internal sealed class RegisterSimulation
{
    private const int KeyCount = 2;

    private readonly HistoryRecorder recorder = new();
    private readonly Dictionary<string, string?> store = [];
    private readonly Client[] clients;
    private readonly Queue<Action> lateEffects = new();

    private RegisterSimulation(int processes)
    {
        clients = Enumerable.Range(0, processes).Select(_ => new Client()).ToArray();
    }

    public static HistoryRecorder Run(int processes, IEnumerable<SimulationStep> schedule)
    {
        var simulation = new RegisterSimulation(processes);
        foreach (SimulationStep step in schedule)
        {
            simulation.Move(step);
        }

        simulation.Finish();
        return simulation.recorder;
    }

    private void Move(SimulationStep step)
    {
        if (step.Value == 0 && lateEffects.TryDequeue(out Action? effect))
        {
            effect();
        }

        int process = step.Process % clients.Length;
        Client client = clients[process];
        switch (client.Stage)
        {
            case Stage.Idle:
                string key = $"k{step.Key % KeyCount}";
                string value = $"{step.Value}";
                string? expected = step.Action % 4 == 0 ? null : $"{step.Action % 4}";
                client.Function = (step.Action % 3) switch
                {
                    0 => OperationFunction.Read,
                    1 => OperationFunction.Write,
                    _ => OperationFunction.Cas,
                };
                client.Key = key;
                client.Value = value;
                client.Expected = expected;
                client.Pending = recorder.Invoke(process, client.Function, key, value, expected);
                client.Stage = Stage.Invoked;
                break;
            case Stage.Invoked when step.Action < 8:
                // Timed out before the request landed: it lands later, or never.
                if (step.Action < 4)
                {
                    (string k, OperationFunction f, string? v, string? e) = (client.Key, client.Function, client.Value, client.Expected);
                    lateEffects.Enqueue(() => Apply(f, k, v, e));
                }

                client.Pending!.Info();
                client.Stage = Stage.Idle;
                break;
            case Stage.Invoked when step.Action < 12:
                client.Pending!.Fail();
                client.Stage = Stage.Idle;
                break;
            case Stage.Invoked:
                (client.Output, client.Succeeded) = Apply(client.Function, client.Key, client.Value, client.Expected);
                client.Stage = Stage.Applied;
                break;
            case Stage.Applied when step.Action < 6:
                client.Pending!.Info();
                client.Stage = Stage.Idle;
                break;
            case Stage.Applied:
                Complete(client);
                break;
        }
    }

    /// <summary>Completes every client and reads every key, so each history has reads to corrupt.</summary>
    private void Finish()
    {
        foreach (Client client in clients)
        {
            if (client.Stage == Stage.Invoked)
            {
                (client.Output, client.Succeeded) = Apply(client.Function, client.Key, client.Value, client.Expected);
                client.Stage = Stage.Applied;
            }

            if (client.Stage == Stage.Applied)
            {
                Complete(client);
            }
        }

        for (int k = 0; k < KeyCount; k++)
        {
            string key = $"k{k}";
            recorder.Read(clients.Length, key).Ok(store.GetValueOrDefault(key));
        }
    }

    private static void Complete(Client client)
    {
        if (client.Function == OperationFunction.Read)
        {
            client.Pending!.Ok(client.Output);
        }
        else if (client.Function == OperationFunction.Cas)
        {
            client.Pending!.Ok(succeeded: client.Succeeded);
        }
        else
        {
            client.Pending!.Ok();
        }

        client.Stage = Stage.Idle;
    }

    private (string? Output, bool Succeeded) Apply(OperationFunction function, string key, string? value, string? expected)
    {
        string? current = store.GetValueOrDefault(key);
        if (function == OperationFunction.Read)
        {
            return (current, false);
        }

        if (function == OperationFunction.Write || current == expected)
        {
            store[key] = value;
            return (null, true);
        }

        return (null, false);
    }

    private enum Stage
    {
        Idle,
        Invoked,
        Applied,
    }

    private sealed class Client
    {
        public Stage Stage { get; set; }

        public OperationFunction Function { get; set; }

        public string Key { get; set; } = "";

        public string? Value { get; set; }

        public string? Expected { get; set; }

        public string? Output { get; set; }

        public bool Succeeded { get; set; }

        public PendingOperation? Pending { get; set; }
    }
}
