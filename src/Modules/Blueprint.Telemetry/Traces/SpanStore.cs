using System.Collections.Concurrent;
using System.IO.Hashing;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Resource;
using Blueprint.Telemetry.Otlp.Trace;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace Blueprint.Telemetry.Traces;

/// <summary>
/// The trace store: spans in one SQLite file (WAL), indexed by trace id, by service and time (an operation or a duration
/// narrows a service's time range), and by tag (a hash of service, key and value, with the time; one row per distinct tag
/// of a trace in a write batch, as Jaeger's Cassandra tag index). A span is kept whole as its OTLP protobuf bytes; its process (resource) once, by hash.
/// One writer (the ingest loop) writes batches, each one transaction and one <em>segment</em>, and every index leads with
/// the segment: a batch's index entries are appended at the end of each B-tree instead of scattered over it (random trace
/// ids and tag hashes would otherwise touch, and rewrite, a page per entry), and retention deletes the oldest segments
/// whole. A lookup probes each segment's slice of an index (hundreds of descents at millions of spans); a search probes
/// only the segments whose time range meets its window. Readers use their own connections.
/// SQLite was chosen over DuckDB by measurement (docs/tracing.md): DuckDB's appender ingested faster, but its trace-id
/// lookups missed the 10 ms p99 that SQLite's point lookups meet.
/// </summary>
internal sealed class SpanStore : IDisposable
{
    private const int TagValueMax = 256;
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<(string Operation, int Kind), byte>> _operations = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, long> _resourceIds = [];
    private readonly ConcurrentDictionary<long, Resource> _resources = new();
    /// <summary>Spans, and children waiting for their parent, the service graph remembers (docs/tracing.md).</summary>
    private const int LinkerCapacity = 65_536;
    private readonly DependencyLinker _linker = new(LinkerCapacity);
    private readonly BulkInsert _spanInsert;
    private readonly BulkInsert _tagInsert;
    private long _spanCount;

    private SpanStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA cache_size = -65536;
            PRAGMA wal_autocheckpoint = 16384;
            CREATE TABLE IF NOT EXISTS resources (id INTEGER PRIMARY KEY, hash INTEGER NOT NULL UNIQUE, service TEXT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS spans (
                seg INTEGER NOT NULL, trace_id BLOB NOT NULL, span_id BLOB NOT NULL, parent_id BLOB, resource INTEGER NOT NULL,
                service TEXT NOT NULL, operation TEXT NOT NULL, start_us INTEGER NOT NULL, duration_us INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS spans_trace ON spans (seg, trace_id);
            CREATE INDEX IF NOT EXISTS spans_service_time ON spans (seg, service, start_us);
            CREATE TABLE IF NOT EXISTS tags (seg INTEGER NOT NULL, tag INTEGER NOT NULL, trace_id BLOB NOT NULL, PRIMARY KEY (seg, tag, trace_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS operations (service TEXT NOT NULL, operation TEXT NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY (service, operation, kind)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, span_first INTEGER NOT NULL, span_last INTEGER NOT NULL,
                min_start_us INTEGER NOT NULL, max_start_us INTEGER NOT NULL, spans INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS dependencies (hour INTEGER NOT NULL, parent TEXT NOT NULL, child TEXT NOT NULL, calls INTEGER NOT NULL,
                PRIMARY KEY (hour, parent, child)) WITHOUT ROWID;
            """);
        Load();
        _spanInsert = new BulkInsert(_writer, "spans", 10);
        _tagInsert = new BulkInsert(_writer, "tags", 3);
    }

    /// <summary>Spans stored now.</summary>
    public long SpanCount => Interlocked.Read(ref _spanCount);

    /// <summary>Opens (or creates) the store at <paramref name="path"/>.</summary>
    public static SpanStore Open(string path) => new(path);

    private void Load()
    {
        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT service, operation, kind FROM operations";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                Remember(reader.GetString(0), reader.GetString(1), reader.GetInt32(2));
            }
        }

        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT id, hash FROM resources";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _resourceIds[unchecked((ulong)reader.GetInt64(1))] = reader.GetInt64(0);
            }
        }

        using (var command = _writer.CreateCommand())
        {
            command.CommandText = "SELECT COALESCE(SUM(spans), 0) FROM segments";
            _spanCount = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private bool Remember(string service, string operation, int kind) =>
        _operations.GetOrAdd(service, _ => new()).TryAdd((operation, kind), 0);

    /// <summary>Writes <paramref name="groups"/> as one transaction and one segment. Only the ingest loop calls it.</summary>
    public void Write(IReadOnlyList<SpanGroup> groups)
    {
        try
        {
            WriteSegment(groups);
        }
        catch
        {
            // A rolled-back batch may have cached resource ids it never wrote: read them again from what is committed.
            _spanInsert.Discard();
            _tagInsert.Discard();
            _resourceIds.Clear();
            Load();
            throw;
        }
    }

    private void WriteSegment(IReadOnlyList<SpanGroup> groups)
    {
        using var transaction = _writer.BeginTransaction();
        var seg = MaxRowId("segments", transaction) + 1;
        var spanFirst = MaxRowId("spans", transaction) + 1;
        var spans = _spanInsert;
        var tags = _tagInsert;
        long minStart = long.MaxValue, maxStart = 0, count = 0;
        var seenTags = new HashSet<(ByteString Trace, long Tag)>();
        var calls = new Dictionary<(long Hour, string Parent, string Child), long>();
        foreach (var group in groups)
        {
            var resource = ResourceId(group, transaction);
            foreach (var span in group.Spans)
            {
                var start = ToMicros(span.StartTimeUnixNano);
                var traceId = span.TraceId.Memory;
                spans.Add(
                    seg,
                    traceId,
                    span.SpanId.Memory,
                    span.ParentSpanId.IsEmpty ? null : span.ParentSpanId.Memory,
                    resource,
                    group.Service,
                    span.Name,
                    start,
                    span.EndTimeUnixNano > span.StartTimeUnixNano ? (long)((span.EndTimeUnixNano - span.StartTimeUnixNano) / 1000) : 0L,
                    (ReadOnlyMemory<byte>)span.ToByteArray());
                minStart = Math.Min(minStart, start);
                maxStart = Math.Max(maxStart, start);
                count++;

                if (Remember(group.Service, span.Name, (int)span.Kind))
                {
                    InsertOperation(group.Service, span.Name, (int)span.Kind, transaction);
                }

                foreach (var (key, value) in IndexedTags(span))
                {
                    var tag = TagHash(group.Service, key, value);
                    if (seenTags.Add((span.TraceId, tag)))
                    {
                        tags.Add(seg, tag, traceId);
                    }
                }

                foreach (var (parent, child, childStart) in _linker.Add(span, group.Service, start))
                {
                    var key = (childStart / MicrosPerHour, parent, child);
                    calls[key] = calls.GetValueOrDefault(key) + 1;
                }
            }
        }

        spans.Flush();
        tags.Flush();
        if (count > 0)
        {
            using var segment = _writer.CreateCommand();
            segment.Transaction = transaction;
            segment.CommandText = "INSERT INTO segments VALUES ($id, $a, $b, $min, $max, $n)";
            segment.Parameters.AddWithValue("$id", seg);
            segment.Parameters.AddWithValue("$a", spanFirst);
            segment.Parameters.AddWithValue("$b", spanFirst + count - 1);
            segment.Parameters.AddWithValue("$min", minStart);
            segment.Parameters.AddWithValue("$max", maxStart);
            segment.Parameters.AddWithValue("$n", count);
            segment.ExecuteNonQuery();
        }

        foreach (var ((hour, parent, child), n) in calls)
        {
            using var link = _writer.CreateCommand();
            link.Transaction = transaction;
            link.CommandText = "INSERT INTO dependencies VALUES ($h, $p, $c, $n) ON CONFLICT DO UPDATE SET calls = calls + excluded.calls";
            link.Parameters.AddWithValue("$h", hour);
            link.Parameters.AddWithValue("$p", parent);
            link.Parameters.AddWithValue("$c", child);
            link.Parameters.AddWithValue("$n", n);
            link.ExecuteNonQuery();
        }

        transaction.Commit();
        Interlocked.Add(ref _spanCount, count);
    }

    private const long MicrosPerHour = 3_600_000_000;

    /// <summary>
    /// The largest rowid of <paramref name="table"/>. The one writer appends, so a batch's rows take the next rowids in
    /// order (SQLite gives max(rowid) + 1): its segment is a rowid range, known without asking for each row's.
    /// </summary>
    private long MaxRowId(string table, SqliteTransaction transaction)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COALESCE(MAX(rowid), 0) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// A tag as the index keeps it: one 64-bit hash of service, key and value (a row of three integers and the trace id,
    /// not three strings). Two tags sharing a hash would only let a search return an extra trace; at 10 million distinct
    /// tags the chance that any two do is about one in 300 000.
    /// </summary>
    internal static long TagHash(string service, string key, string value)
    {
        var hash = new XxHash64();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(service));
        hash.Append([0]);
        hash.Append(System.Text.Encoding.UTF8.GetBytes(key));
        hash.Append([0]);
        hash.Append(System.Text.Encoding.UTF8.GetBytes(value));
        return unchecked((long)hash.GetCurrentHashAsUInt64());
    }

    private void InsertOperation(string service, string operation, int kind, SqliteTransaction transaction)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR IGNORE INTO operations VALUES ($s, $o, $k)";
        command.Parameters.AddWithValue("$s", service);
        command.Parameters.AddWithValue("$o", operation);
        command.Parameters.AddWithValue("$k", kind);
        command.ExecuteNonQuery();
    }

    private long ResourceId(SpanGroup group, SqliteTransaction transaction)
    {
        var body = group.Resource.ToByteArray();
        var hash = XxHash64.HashToUInt64(body);
        if (_resourceIds.TryGetValue(hash, out var id))
        {
            return id;
        }

        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO resources (hash, service, body) VALUES ($h, $s, $b) RETURNING id";
        command.Parameters.AddWithValue("$h", unchecked((long)hash));
        command.Parameters.AddWithValue("$s", group.Service);
        command.Parameters.AddWithValue("$b", body);
        id = (long)command.ExecuteScalar()!;
        // Cached only once the transaction commits would be exact; a rolled-back batch is never retried, so a stale id
        // can only name a resource that is then written by the next batch that needs it (the id is reused by SQLite).
        _resourceIds[hash] = id;
        return id;
    }

    /// <summary>The tags a search can match: string, bool, int and double attributes (short values), the span kind and the error flag.</summary>
    internal static IEnumerable<(string Key, string Value)> IndexedTags(Span span)
    {
        foreach (var attribute in span.Attributes)
        {
            if (TagText(attribute.Value) is { Length: <= TagValueMax } text)
            {
                yield return (attribute.Key, text);
            }
        }

        if (span.Status?.Code == Status.Types.StatusCode.Error)
        {
            yield return ("error", "true");
        }
    }

    /// <summary>A scalar attribute value as text (as Jaeger's query matches it), or null for arrays, maps and bytes.</summary>
    internal static string? TagText(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    private static long ToMicros(ulong unixNanos) => (long)Math.Min(unixNanos / 1000, long.MaxValue);

    /// <summary>
    /// Deletes the oldest segments while a segment's newest span is older than <paramref name="cutoffMicros"/> or more
    /// than <paramref name="maxSpans"/> are stored. Only the ingest loop calls it. Returns the spans deleted.
    /// </summary>
    public long Trim(long cutoffMicros, long maxSpans)
    {
        long deleted = 0;
        while (true)
        {
            using var oldest = _writer.CreateCommand();
            oldest.CommandText = "SELECT id, span_first, span_last, max_start_us, spans FROM segments ORDER BY id LIMIT 1";
            using var reader = oldest.ExecuteReader();
            if (!reader.Read())
            {
                return deleted;
            }

            var (id, spanFirst, spanLast, maxStart, spans) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
            reader.Close();
            if (maxStart >= cutoffMicros && SpanCount <= maxSpans)
            {
                return deleted;
            }

            using var transaction = _writer.BeginTransaction();
            using var delete = _writer.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = """
                DELETE FROM spans WHERE rowid BETWEEN $a AND $b;
                DELETE FROM tags WHERE seg = $id;
                DELETE FROM segments WHERE id = $id;
                DELETE FROM dependencies WHERE hour < $hour;
                """;
            delete.Parameters.AddWithValue("$a", spanFirst);
            delete.Parameters.AddWithValue("$b", spanLast);
            delete.Parameters.AddWithValue("$id", id);
            delete.Parameters.AddWithValue("$hour", cutoffMicros / MicrosPerHour);
            delete.ExecuteNonQuery();
            transaction.Commit();
            Interlocked.Add(ref _spanCount, -spans);
            deleted += spans;
        }
    }

    /// <summary>Every service with stored spans, sorted.</summary>
    public IReadOnlyList<string> Services() => [.. _operations.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The operations of <paramref name="service"/> with their span kinds (OTLP numbering), sorted.</summary>
    public IReadOnlyList<(string Operation, int Kind)> Operations(string service) =>
        _operations.TryGetValue(service, out var operations)
            ? [.. operations.Keys.OrderBy(o => o.Operation, StringComparer.Ordinal).ThenBy(o => o.Kind)]
            : [];

    /// <summary>The spans of the traces <paramref name="traceIds"/>, each with its process.</summary>
    public IReadOnlyList<StoredSpan> Spans(IReadOnlyCollection<byte[]> traceIds)
    {
        var spans = new List<StoredSpan>();
        if (traceIds.Count == 0)
        {
            return spans;
        }

        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        // Each segment's slice of the (segment, trace id) index is probed: a few hundred B-tree descents at millions of spans.
        command.CommandText = "SELECT resource, body FROM spans INDEXED BY spans_trace WHERE seg IN (SELECT id FROM segments) AND trace_id = $t";
        var parameter = command.Parameters.Add("$t", SqliteType.Blob);
        foreach (var traceId in traceIds)
        {
            parameter.Value = traceId;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var span = Span.Parser.ParseFrom((byte[])reader.GetValue(1));
                spans.Add(new StoredSpan(span, Resource(connection, reader.GetInt64(0))));
            }
        }

        return spans;
    }

    /// <summary>The ids of the newest traces matching <paramref name="query"/>, newest first.</summary>
    public IReadOnlyList<byte[]> FindTraceIds(TraceQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        const string Segments = "SELECT id FROM segments WHERE max_start_us >= $from AND min_start_us <= $to";
        var where = new List<string> { $"s.seg IN ({Segments})", "s.service = $svc", "s.start_us BETWEEN $from AND $to" };
        command.Parameters.AddWithValue("$svc", query.Service);
        command.Parameters.AddWithValue("$from", query.StartMicros);
        command.Parameters.AddWithValue("$to", query.EndMicros);
        if (query.Operation is { } operation)
        {
            where.Add("s.operation = $op");
            command.Parameters.AddWithValue("$op", operation);
        }

        if (query.MinDurationMicros is { } min)
        {
            where.Add("s.duration_us >= $min");
            command.Parameters.AddWithValue("$min", min);
        }

        if (query.MaxDurationMicros is { } max)
        {
            where.Add("s.duration_us <= $max");
            command.Parameters.AddWithValue("$max", max);
        }

        var n = 0;
        foreach (var (key, value) in query.Tags)
        {
            // A tag narrows to traces having it on a span of the service; the span matched by duration may be another one of that trace.
            where.Add($"s.trace_id IN (SELECT trace_id FROM tags WHERE seg IN ({Segments}) AND tag = $tag{n})");
            command.Parameters.AddWithValue($"$tag{n}", TagHash(query.Service, key, value));
            n++;
        }

        // With tags, the few traces carrying them are looked up by id; without, the service's spans in the window are read.
        var index = query.Tags.Count > 0 ? "spans_trace" : "spans_service_time";
        command.CommandText = $"SELECT s.trace_id, MAX(s.start_us) AS newest FROM spans s INDEXED BY {index} WHERE {string.Join(" AND ", where)} GROUP BY s.trace_id ORDER BY newest DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit);
        var ids = new List<byte[]>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add((byte[])reader.GetValue(0));
        }

        return ids;
    }

    /// <summary>
    /// Calls from one service to another in the window (by the hour): a child span whose parent is of another service,
    /// counted as the spans are written (<see cref="DependencyLinker"/>).
    /// </summary>
    public IReadOnlyList<(string Parent, string Child, long Calls)> Dependencies(long fromMicros, long toMicros)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT parent, child, SUM(calls) FROM dependencies WHERE hour BETWEEN $from AND $to
            GROUP BY parent, child ORDER BY parent, child
            """;
        command.Parameters.AddWithValue("$from", fromMicros / MicrosPerHour);
        command.Parameters.AddWithValue("$to", toMicros / MicrosPerHour);
        var links = new List<(string, string, long)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            links.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return links;
    }

    private Resource Resource(SqliteConnection connection, long id)
    {
        if (_resources.TryGetValue(id, out var cached))
        {
            return cached;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM resources WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        var resource = command.ExecuteScalar() is byte[] body ? Otlp.Resource.Resource.Parser.ParseFrom(body) : new Resource();
        return _resources.GetOrAdd(id, resource);
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Reads a trace id as Jaeger's API writes it: 32 hex digits (shorter ids are left-padded, as Jaeger accepts 64-bit ids).</summary>
    public static byte[]? ParseTraceId(string text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 32)
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(text.PadLeft(32, '0'));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _spanInsert.Dispose();
        _tagInsert.Dispose();
        _writer.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }
}

/// <summary>
/// Rows appended many to a statement (<c>INSERT … VALUES (…), (…), …</c>), bound through SQLite's own C API by position:
/// a statement's fixed cost paid once per <see cref="RowsPerStatement"/> rows, and none of the ADO.NET provider's
/// per-parameter work (a name lookup and a type dispatch for every value of every execution), which measured more than a
/// third of the write. The statements are prepared once, on the writer's connection, and kept.
/// </summary>
internal sealed class BulkInsert : IDisposable
{
    public const int RowsPerStatement = 64;
    private readonly SQLitePCL.sqlite3 _db;
    private readonly string _table;
    private readonly int _columns;
    private readonly object?[] _values;
    private readonly Dictionary<int, SQLitePCL.sqlite3_stmt> _statements = [];
    private int _rows;

    public BulkInsert(SqliteConnection connection, string table, int columns)
    {
        _db = connection.Handle!;
        _table = table;
        _columns = columns;
        _values = new object?[columns * RowsPerStatement];
    }

    /// <summary>Adds a row: each value a <see cref="long"/>, a <see cref="string"/>, a <see cref="ReadOnlyMemory{T}"/> of bytes, or null.</summary>
    public void Add(params object?[] row)
    {
        Array.Copy(row, 0, _values, _rows * _columns, _columns);
        if (++_rows == RowsPerStatement)
        {
            Flush();
        }
    }

    /// <summary>Writes the rows added since the last statement.</summary>
    public void Flush()
    {
        if (_rows == 0)
        {
            return;
        }

        var statement = Statement(_rows);
        for (var i = 0; i < _rows * _columns; i++)
        {
            var position = i + 1;
            var result = _values[i] switch
            {
                null => SQLitePCL.raw.sqlite3_bind_null(statement, position),
                long number => SQLitePCL.raw.sqlite3_bind_int64(statement, position, number),
                string text => SQLitePCL.raw.sqlite3_bind_text(statement, position, text),
                ReadOnlyMemory<byte> bytes => SQLitePCL.raw.sqlite3_bind_blob(statement, position, bytes.Span),
                var other => throw new ArgumentException($"cannot bind a {other.GetType().Name}"),
            };
            Check(result);
            _values[i] = null;
        }

        var step = SQLitePCL.raw.sqlite3_step(statement);
        SQLitePCL.raw.sqlite3_reset(statement);
        if (step != SQLitePCL.raw.SQLITE_DONE)
        {
            Check(step);
        }

        _rows = 0;
    }

    /// <summary>Forgets rows not yet written (their transaction is rolled back).</summary>
    public void Discard()
    {
        Array.Clear(_values);
        _rows = 0;
        foreach (var statement in _statements.Values)
        {
            SQLitePCL.raw.sqlite3_reset(statement);
        }
    }

    private void Check(int result)
    {
        if (result is not (SQLitePCL.raw.SQLITE_OK or SQLitePCL.raw.SQLITE_DONE))
        {
            throw new SqliteException($"SQLite Error {result}: '{SQLitePCL.raw.sqlite3_errmsg(_db).utf8_to_string()}'.", result);
        }
    }

    private SQLitePCL.sqlite3_stmt Statement(int rows)
    {
        if (_statements.TryGetValue(rows, out var statement))
        {
            return statement;
        }

        var text = new System.Text.StringBuilder($"INSERT INTO {_table} VALUES ");
        var row = "(" + string.Join(", ", Enumerable.Repeat("?", _columns)) + ")";
        text.AppendJoin(", ", Enumerable.Repeat(row, rows));
        Check(SQLitePCL.raw.sqlite3_prepare_v2(_db, text.ToString(), out statement));
        _statements[rows] = statement;
        return statement;
    }

    public void Dispose()
    {
        foreach (var statement in _statements.Values)
        {
            statement.Dispose();
        }

        _statements.Clear();
    }
}

/// <summary>A stored span with its process.</summary>
internal sealed record StoredSpan(Span Span, Resource Resource);

/// <summary>A trace search, as Jaeger's <c>/api/traces</c> takes it.</summary>
internal sealed record TraceQuery
{
    public required string Service { get; init; }

    public string? Operation { get; init; }

    public IReadOnlyList<(string Key, string Value)> Tags { get; init; } = [];

    public long? MinDurationMicros { get; init; }

    public long? MaxDurationMicros { get; init; }

    public required long StartMicros { get; init; }

    public required long EndMicros { get; init; }

    public required int Limit { get; init; }
}
