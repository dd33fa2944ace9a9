using Blueprint.Telemetry.Traces;
using Microsoft.Data.Sqlite;

namespace Blueprint.TraceStoreBench;

/// <summary>One engine under test: the writes and reads the bench times, on a store in its own directory.</summary>
internal interface IEngine : IDisposable
{
    string Name { get; }

    void Write(IReadOnlyList<SpanGroup> batch);

    /// <summary>Moves what the writes left in a write-ahead log into the database file (part of the timed write).</summary>
    void Checkpoint();

    int Lookup(byte[] traceId);

    IReadOnlyList<byte[]> Find(TraceQuery query);
}

/// <summary>The module's own store, driven as the ingest loop drives it.</summary>
internal sealed class SqliteEngine(string directory) : IEngine
{
    private readonly string _path = Path.Combine(directory, "spans.db");
    private SpanStore? _store;

    public string Name => "SQLite (SpanStore)";

    private SpanStore Store => _store ??= SpanStore.Open(_path);

    public void Write(IReadOnlyList<SpanGroup> batch) => Store.Write(batch);

    public void Checkpoint()
    {
        using var connection = new SqliteConnection($"Data Source={_path};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        command.ExecuteNonQuery();
    }

    public int Lookup(byte[] traceId) => Store.Spans([traceId]).Count;

    public IReadOnlyList<byte[]> Find(TraceQuery query) => Store.FindTraceIds(query);

    public void Dispose() => _store?.Dispose();
}

/// <summary>The DuckDB store of this bench, with or without the ART index on trace_id.</summary>
internal sealed class DuckDbEngine(string directory, bool traceIndex, int? threads) : IEngine
{
    private readonly DuckDbSpanStore _store = new(Path.Combine(directory, "spans.duckdb"), traceIndex, threads);

    public string Name => (traceIndex ? "DuckDB, ART index on trace_id" : "DuckDB, no index") + (threads is { } n ? $", {n} thread(s)" : "");

    public void Write(IReadOnlyList<SpanGroup> batch) => _store.Write(batch);

    public void Checkpoint() => _store.Checkpoint();

    public int Lookup(byte[] traceId) => _store.Spans(traceId).Count;

    public IReadOnlyList<byte[]> Find(TraceQuery query) => _store.FindTraceIds(query);

    public void Dispose() => _store.Dispose();
}
