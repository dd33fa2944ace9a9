using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Hashing;
using Blueprint.Telemetry.Otlp.Common;
using Blueprint.Telemetry.Otlp.Resource;
using Blueprint.Telemetry.Otlp.Trace;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace Blueprint.Telemetry.Traces;

/// <summary>
/// The trace store: spans in one SQLite file (WAL), indexed by trace id, by service and time, by service, operation
/// and time, and by tag (service, key, value, time; one row per distinct tag of a trace in a write batch, as Jaeger's
/// Cassandra tag index). A span is kept whole as its OTLP protobuf bytes; its process (resource) once, by hash.
/// One writer (the ingest loop) writes batches, each one transaction and one <em>segment</em>: retention deletes the
/// oldest segments whole, by rowid range, which costs no index of its own. Readers use their own connections.
/// SQLite was chosen over DuckDB by measurement (docs/tracing.md): point lookups by trace id and small batched
/// inserts are a row store's work.
/// </summary>
internal sealed class SpanStore : IDisposable
{
    private const int TagValueMax = 256;
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<(string Operation, int Kind), byte>> _operations = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, long> _resourceIds = [];
    private readonly ConcurrentDictionary<long, Resource> _resources = new();
    private long _spanCount;

    private SpanStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS resources (id INTEGER PRIMARY KEY, hash INTEGER NOT NULL UNIQUE, service TEXT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS spans (
                trace_id BLOB NOT NULL, span_id BLOB NOT NULL, parent_id BLOB, resource INTEGER NOT NULL,
                service TEXT NOT NULL, operation TEXT NOT NULL, start_us INTEGER NOT NULL, duration_us INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS spans_trace ON spans (trace_id);
            CREATE INDEX IF NOT EXISTS spans_service_time ON spans (service, start_us);
            CREATE INDEX IF NOT EXISTS spans_operation_time ON spans (service, operation, start_us);
            CREATE INDEX IF NOT EXISTS spans_time ON spans (start_us);
            CREATE TABLE IF NOT EXISTS tags (service TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, start_us INTEGER NOT NULL, trace_id BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS tags_lookup ON tags (service, key, value, start_us);
            CREATE TABLE IF NOT EXISTS operations (service TEXT NOT NULL, operation TEXT NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY (service, operation, kind)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, span_first INTEGER NOT NULL, span_last INTEGER NOT NULL,
                tag_first INTEGER NOT NULL, tag_last INTEGER NOT NULL, max_start_us INTEGER NOT NULL, spans INTEGER NOT NULL);
            """);
        Load();
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
        using var transaction = _writer.BeginTransaction();
        using var insertSpan = _writer.CreateCommand();
        insertSpan.Transaction = transaction;
        insertSpan.CommandText = "INSERT INTO spans VALUES ($t, $s, $p, $r, $svc, $op, $start, $dur, $body)";
        var pTrace = insertSpan.Parameters.Add("$t", SqliteType.Blob);
        var pSpan = insertSpan.Parameters.Add("$s", SqliteType.Blob);
        var pParent = insertSpan.Parameters.Add("$p", SqliteType.Blob);
        var pResource = insertSpan.Parameters.Add("$r", SqliteType.Integer);
        var pService = insertSpan.Parameters.Add("$svc", SqliteType.Text);
        var pOperation = insertSpan.Parameters.Add("$op", SqliteType.Text);
        var pStart = insertSpan.Parameters.Add("$start", SqliteType.Integer);
        var pDuration = insertSpan.Parameters.Add("$dur", SqliteType.Integer);
        var pBody = insertSpan.Parameters.Add("$body", SqliteType.Blob);
        insertSpan.Prepare();

        using var insertTag = _writer.CreateCommand();
        insertTag.Transaction = transaction;
        insertTag.CommandText = "INSERT INTO tags VALUES ($svc, $k, $v, $start, $t)";
        var tService = insertTag.Parameters.Add("$svc", SqliteType.Text);
        var tKey = insertTag.Parameters.Add("$k", SqliteType.Text);
        var tValue = insertTag.Parameters.Add("$v", SqliteType.Text);
        var tStart = insertTag.Parameters.Add("$start", SqliteType.Integer);
        var tTrace = insertTag.Parameters.Add("$t", SqliteType.Blob);
        insertTag.Prepare();

        long spanFirst = 0, spanLast = 0, tagFirst = 0, tagLast = 0, maxStart = 0, count = 0;
        var seenTags = new HashSet<(ByteString Trace, string Key, string Value)>();
        foreach (var group in groups)
        {
            var resource = ResourceId(group, transaction);
            foreach (var span in group.Spans)
            {
                var start = ToMicros(span.StartTimeUnixNano);
                pTrace.Value = span.TraceId.Memory.ToArray();
                pSpan.Value = span.SpanId.Memory.ToArray();
                pParent.Value = span.ParentSpanId.IsEmpty ? DBNull.Value : span.ParentSpanId.Memory.ToArray();
                pResource.Value = resource;
                pService.Value = group.Service;
                pOperation.Value = span.Name;
                pStart.Value = start;
                pDuration.Value = span.EndTimeUnixNano > span.StartTimeUnixNano ? (long)((span.EndTimeUnixNano - span.StartTimeUnixNano) / 1000) : 0L;
                pBody.Value = span.ToByteArray();
                insertSpan.ExecuteNonQuery();
                spanLast = LastRowId();
                spanFirst = spanFirst == 0 ? spanLast : spanFirst;
                maxStart = Math.Max(maxStart, start);
                count++;

                if (Remember(group.Service, span.Name, (int)span.Kind))
                {
                    InsertOperation(group.Service, span.Name, (int)span.Kind, transaction);
                }

                foreach (var (key, value) in IndexedTags(span))
                {
                    if (!seenTags.Add((span.TraceId, key, value)))
                    {
                        continue;
                    }

                    tService.Value = group.Service;
                    tKey.Value = key;
                    tValue.Value = value;
                    tStart.Value = start;
                    tTrace.Value = pTrace.Value;
                    insertTag.ExecuteNonQuery();
                    tagLast = LastRowId();
                    tagFirst = tagFirst == 0 ? tagLast : tagFirst;
                }
            }
        }

        if (count > 0)
        {
            using var segment = _writer.CreateCommand();
            segment.Transaction = transaction;
            segment.CommandText = "INSERT INTO segments (span_first, span_last, tag_first, tag_last, max_start_us, spans) VALUES ($a, $b, $c, $d, $m, $n)";
            segment.Parameters.AddWithValue("$a", spanFirst);
            segment.Parameters.AddWithValue("$b", spanLast);
            segment.Parameters.AddWithValue("$c", tagFirst);
            segment.Parameters.AddWithValue("$d", tagLast);
            segment.Parameters.AddWithValue("$m", maxStart);
            segment.Parameters.AddWithValue("$n", count);
            segment.ExecuteNonQuery();
        }

        transaction.Commit();
        Interlocked.Add(ref _spanCount, count);
    }

    private long LastRowId() => SQLitePCL.raw.sqlite3_last_insert_rowid(_writer.Handle);

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
            oldest.CommandText = "SELECT id, span_first, span_last, tag_first, tag_last, max_start_us, spans FROM segments ORDER BY id LIMIT 1";
            using var reader = oldest.ExecuteReader();
            if (!reader.Read())
            {
                return deleted;
            }

            var (id, spanFirst, spanLast, tagFirst, tagLast, maxStart, spans) =
                (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
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
                DELETE FROM tags WHERE rowid BETWEEN $c AND $d;
                DELETE FROM segments WHERE id = $id;
                """;
            delete.Parameters.AddWithValue("$a", spanFirst);
            delete.Parameters.AddWithValue("$b", spanLast);
            delete.Parameters.AddWithValue("$c", tagFirst == 0 ? 1 : tagFirst);
            delete.Parameters.AddWithValue("$d", tagLast);
            delete.Parameters.AddWithValue("$id", id);
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
        command.CommandText = "SELECT resource, body FROM spans WHERE trace_id = $t";
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
        var where = new List<string> { "s.service = $svc", "s.start_us BETWEEN $from AND $to" };
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

        var index = 0;
        foreach (var (key, value) in query.Tags)
        {
            // A tag narrows to traces having it on a span of the service; the span matched by duration may be another one of that trace.
            where.Add($"s.trace_id IN (SELECT trace_id FROM tags WHERE service = $svc AND key = $k{index} AND value = $v{index} AND start_us BETWEEN $from AND $to)");
            command.Parameters.AddWithValue($"$k{index}", key);
            command.Parameters.AddWithValue($"$v{index}", value);
            index++;
        }

        command.CommandText = $"SELECT s.trace_id, MAX(s.start_us) AS newest FROM spans s WHERE {string.Join(" AND ", where)} GROUP BY s.trace_id ORDER BY newest DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit);
        var ids = new List<byte[]>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add((byte[])reader.GetValue(0));
        }

        return ids;
    }

    /// <summary>Calls from one service to another in the window: parent span's service, child span's service, count.</summary>
    public IReadOnlyList<(string Parent, string Child, long Calls)> Dependencies(long fromMicros, long toMicros)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT p.service, c.service, COUNT(*) FROM spans c JOIN spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_id
            WHERE c.start_us BETWEEN $from AND $to AND c.parent_id IS NOT NULL AND p.service <> c.service
            GROUP BY p.service, c.service ORDER BY p.service, c.service
            """;
        command.Parameters.AddWithValue("$from", fromMicros);
        command.Parameters.AddWithValue("$to", toMicros);
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

    /// <summary>The low 64 bits of a trace id, for logs.</summary>
    public static ulong Low(ReadOnlySpan<byte> traceId) => traceId.Length == 16 ? BinaryPrimitives.ReadUInt64BigEndian(traceId[8..]) : 0;

    /// <inheritdoc />
    public void Dispose()
    {
        _writer.Dispose();
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
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
