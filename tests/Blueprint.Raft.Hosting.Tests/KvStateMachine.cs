using System.Text;
using Blueprint.Raft.Hosting;

namespace Blueprint.Raft.Hosting.Tests;

/// <summary>A toy replicated dictionary: "set:key:value" returns the previous value, "get:key" the current one.</summary>
internal sealed class KvStateMachine : IRaftStateMachine
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);
    private int _restoresWithData;

    public long LastAppliedIndex { get; private set; }

    public int RestoresWithData => Volatile.Read(ref _restoresWithData);

    public static byte[] Set(string key, string value) => Encoding.UTF8.GetBytes($"set:{key}:{value}");

    public static byte[] Get(string key) => Encoding.UTF8.GetBytes($"get:{key}");

    public string? Read(string key)
    {
        lock (_gate)
        {
            return _values.GetValueOrDefault(key);
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _values.Count;
            }
        }
    }

    public byte[] Apply(long index, ReadOnlyMemory<byte> command)
    {
        var parts = Encoding.UTF8.GetString(command.Span).Split(':', 3);
        lock (_gate)
        {
            Assert.True(index > LastAppliedIndex, $"index {index} applied after {LastAppliedIndex}");
            LastAppliedIndex = index;
            string previous = _values.GetValueOrDefault(parts[1]) ?? "";
            if (parts[0] == "set")
            {
                _values[parts[1]] = parts[2];
            }

            return Encoding.UTF8.GetBytes(previous);
        }
    }

    public byte[] TakeSnapshot()
    {
        lock (_gate)
        {
            return Encoding.UTF8.GetBytes(string.Join('\n', _values.Select(kv => $"{kv.Key}={kv.Value}")));
        }
    }

    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        lock (_gate)
        {
            _values.Clear();
            LastAppliedIndex = 0;
            if (snapshot.IsEmpty)
            {
                return;
            }

            Interlocked.Increment(ref _restoresWithData);
            foreach (var line in Encoding.UTF8.GetString(snapshot.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var pair = line.Split('=', 2);
                _values[pair[0]] = pair[1];
            }
        }
    }
}
