// This store exists only for the engine comparison in bench/trace-engines.sh: the trace store's issue asks for the
// embedded engine (SQLite or DuckDB) to be chosen by measurement. It is the module's SpanStore (SQLite) schema and
// queries carried over to DuckDB as faithfully as the engines allow, written with DuckDB's Appender (its fastest
// insert path), so both engines are measured doing the same logical work. It is not used by the module.
using System.IO.Hashing;
using Blueprint.Telemetry.Otlp.Trace;
using Blueprint.Telemetry.Traces;
using DuckDB.NET.Data;
using Google.Protobuf;

namespace Blueprint.TraceStoreBench;

/// <summary>
/// Spans in one DuckDB file: the same tables as <see cref="SpanStore"/> (spans with the OTLP body, a tag table with one
/// row per distinct tag of a trace in a write batch, resources by hash, operations), each batch one transaction written
/// through two Appenders. DuckDB has no B-tree: its only index is an ART, which slows appends, so the trace-id index is
/// optional; searches by service and time rely on DuckDB's per-row-group min/max
/// (zone maps), which the append order (by arrival, so nearly by time) makes selective.
/// </summary>
internal sealed class DuckDbSpanStore : IDisposable
{
    private readonly DuckDBConnection _writer;
    private readonly DuckDBConnection _reader;
    private readonly Dictionary<ulong, long> _resourceIds = [];
    private readonly Dictionary<long, Blueprint.Telemetry.Otlp.Resource.Resource> _resources = [];
    private readonly HashSet<(string Service, string Operation, int Kind)> _operations = [];

    public DuckDbSpanStore(string path, bool traceIndex, int? threads = null)
    {
        _writer = new DuckDBConnection($"Data Source={path}");
        _writer.Open();
        if (threads is { } count)
        {
            Execute(_writer, $"SET threads = {count}");
        }

        Execute(_writer, """
            CREATE TABLE IF NOT EXISTS resources (id BIGINT PRIMARY KEY, hash UBIGINT NOT NULL, service VARCHAR NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS spans (
                trace_id BLOB NOT NULL, span_id BLOB NOT NULL, parent_id BLOB, resource BIGINT NOT NULL,
                service VARCHAR NOT NULL, operation VARCHAR NOT NULL, start_us BIGINT NOT NULL, duration_us BIGINT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS tags (service VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, start_us BIGINT NOT NULL, trace_id BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS operations (service VARCHAR NOT NULL, operation VARCHAR NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY (service, operation, kind));
            """);
        if (traceIndex)
        {
            Execute(_writer, "CREATE INDEX IF NOT EXISTS spans_trace ON spans (trace_id)");
        }

        // A second connection to the same file shares the writer's database instance (DuckDB.NET keeps one per file).
        _reader = new DuckDBConnection($"Data Source={path}");
        _reader.Open();
    }

    /// <summary>Writes <paramref name="groups"/> as one transaction, as <see cref="SpanStore.Write"/> does.</summary>
    public void Write(IReadOnlyList<SpanGroup> groups)
    {
        using var transaction = _writer.BeginTransaction();
        var resources = new long[groups.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            resources[g] = ResourceId(groups[g]);
        }

        var seenTags = new HashSet<(ByteString Trace, string Key, string Value)>();
        var tagRows = new List<(string Service, string Key, string Value, long Start, byte[] Trace)>();
        using (var spans = _writer.CreateAppender("spans"))
        {
            for (var g = 0; g < groups.Count; g++)
            {
                var group = groups[g];
                foreach (var span in group.Spans)
                {
                    var start = (long)Math.Min(span.StartTimeUnixNano / 1000, long.MaxValue);
                    var traceId = span.TraceId.ToByteArray();
                    var row = spans.CreateRow()
                        .AppendValue(traceId)
                        .AppendValue(span.SpanId.ToByteArray());
                    row = span.ParentSpanId.IsEmpty ? row.AppendNullValue() : row.AppendValue(span.ParentSpanId.ToByteArray());
                    row.AppendValue(resources[g])
                        .AppendValue(group.Service)
                        .AppendValue(span.Name)
                        .AppendValue(start)
                        .AppendValue(span.EndTimeUnixNano > span.StartTimeUnixNano ? (long)((span.EndTimeUnixNano - span.StartTimeUnixNano) / 1000) : 0L)
                        .AppendValue(span.ToByteArray())
                        .EndRow();

                    if (_operations.Add((group.Service, span.Name, (int)span.Kind)))
                    {
                        using var command = _writer.CreateCommand();
                        command.CommandText = "INSERT OR IGNORE INTO operations VALUES ($s, $o, $k)";
                        command.Parameters.Add(new DuckDBParameter("s", group.Service));
                        command.Parameters.Add(new DuckDBParameter("o", span.Name));
                        command.Parameters.Add(new DuckDBParameter("k", (int)span.Kind));
                        command.ExecuteNonQuery();
                    }

                    foreach (var (key, value) in SpanStore.IndexedTags(span))
                    {
                        if (seenTags.Add((span.TraceId, key, value)))
                        {
                            tagRows.Add((group.Service, key, value, start, traceId));
                        }
                    }
                }
            }
        }

        using (var tags = _writer.CreateAppender("tags"))
        {
            foreach (var (service, key, value, start, trace) in tagRows)
            {
                tags.CreateRow().AppendValue(service).AppendValue(key).AppendValue(value).AppendValue(start).AppendValue(trace).EndRow();
            }
        }

        transaction.Commit();
    }

    private long ResourceId(SpanGroup group)
    {
        var body = group.Resource.ToByteArray();
        var hash = XxHash64.HashToUInt64(body);
        if (_resourceIds.TryGetValue(hash, out var id))
        {
            return id;
        }

        id = _resourceIds.Count + 1;
        using var command = _writer.CreateCommand();
        command.CommandText = "INSERT INTO resources VALUES ($i, $h, $s, $b)";
        command.Parameters.Add(new DuckDBParameter("i", id));
        command.Parameters.Add(new DuckDBParameter("h", hash));
        command.Parameters.Add(new DuckDBParameter("s", group.Service));
        command.Parameters.Add(new DuckDBParameter("b", body));
        command.ExecuteNonQuery();
        _resourceIds[hash] = id;
        return id;
    }

    /// <summary>Folds the write-ahead log into the database file.</summary>
    public void Checkpoint() => Execute(_writer, "CHECKPOINT");

    /// <summary>The spans of one trace, each parsed with its process, as <see cref="SpanStore.Spans"/> returns them.</summary>
    public IReadOnlyList<StoredSpan> Spans(byte[] traceId)
    {
        var spans = new List<StoredSpan>();
        using var command = _reader.CreateCommand();
        command.CommandText = "SELECT resource, body FROM spans WHERE trace_id = $t";
        command.Parameters.Add(new DuckDBParameter("t", traceId));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            using var body = reader.GetStream(1);
            spans.Add(new StoredSpan(Span.Parser.ParseFrom(body), Resource(reader.GetInt64(0))));
        }

        return spans;
    }

    /// <summary>The newest traces matching <paramref name="query"/>: <see cref="SpanStore.FindTraceIds"/>'s query, in DuckDB's SQL.</summary>
    public IReadOnlyList<byte[]> FindTraceIds(TraceQuery query)
    {
        using var command = _reader.CreateCommand();
        var where = new List<string> { "s.service = $svc", "s.start_us BETWEEN $from AND $to" };
        command.Parameters.Add(new DuckDBParameter("svc", query.Service));
        command.Parameters.Add(new DuckDBParameter("from", query.StartMicros));
        command.Parameters.Add(new DuckDBParameter("to", query.EndMicros));
        var index = 0;
        foreach (var (key, value) in query.Tags)
        {
            where.Add($"s.trace_id IN (SELECT trace_id FROM tags WHERE service = $svc AND key = $k{index} AND value = $v{index} AND start_us BETWEEN $from AND $to)");
            command.Parameters.Add(new DuckDBParameter($"k{index}", key));
            command.Parameters.Add(new DuckDBParameter($"v{index}", value));
            index++;
        }

        command.CommandText = $"SELECT s.trace_id, MAX(s.start_us) AS newest FROM spans s WHERE {string.Join(" AND ", where)} GROUP BY s.trace_id ORDER BY newest DESC LIMIT $limit";
        command.Parameters.Add(new DuckDBParameter("limit", query.Limit));
        var ids = new List<byte[]>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            using var stream = reader.GetStream(0);
            var id = new byte[stream.Length];
            stream.ReadExactly(id);
            ids.Add(id);
        }

        return ids;
    }

    private Blueprint.Telemetry.Otlp.Resource.Resource Resource(long id)
    {
        if (_resources.TryGetValue(id, out var cached))
        {
            return cached;
        }

        using var command = _reader.CreateCommand();
        command.CommandText = "SELECT body FROM resources WHERE id = $i";
        command.Parameters.Add(new DuckDBParameter("i", id));
        using var reader = command.ExecuteReader();
        var resource = reader.Read()
            ? Blueprint.Telemetry.Otlp.Resource.Resource.Parser.ParseFrom(reader.GetStream(0))
            : new Blueprint.Telemetry.Otlp.Resource.Resource();
        _resources[id] = resource;
        return resource;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _reader.Dispose();
        _writer.Dispose();
    }
}
