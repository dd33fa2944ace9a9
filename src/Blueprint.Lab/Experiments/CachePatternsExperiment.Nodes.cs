using System.Data.Common;
using System.Globalization;

using Blueprint.Cache.Patterns;
using Blueprint.Lab.Processes;

using Microsoft.Data.Sqlite;

using StackExchange.Redis;

namespace Blueprint.Lab.Experiments;

/// <summary>The programs and databases the experiment runs the patterns on.</summary>
public sealed partial class CachePatternsExperiment
{
    /// <summary>The RESP engine of a kv node and a SQLite file beside it: what the in-process patterns run on.</summary>
    private sealed class Backends : IAsyncDisposable
    {
        private readonly KvNodeProcess _node;
        private readonly ConnectionMultiplexer _redis;
        private readonly string _sqlitePath;
        private int _tables;

        private Backends(KvNodeProcess node, ConnectionMultiplexer redis, string sqlitePath)
        {
            _node = node;
            _redis = redis;
            _sqlitePath = sqlitePath;
        }

        public IDatabase Database => _redis.GetDatabase();

        public static async Task<Backends> StartAsync(LabEnvironment environment)
        {
            KvNodeProcess node = await KvNodeProcess.StartAsync(environment, "kv", new Dictionary<string, string>(), CancellationToken.None).ConfigureAwait(false);
            try
            {
                ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
                {
                    EndPoints = { $"127.0.0.1:{node.RespPort.ToString(CultureInfo.InvariantCulture)}" },
                    ConnectTimeout = 10_000,
                    AsyncTimeout = 10_000,
                    SyncTimeout = 10_000,
                }).ConfigureAwait(false);
                return new Backends(node, redis, Path.Combine(node.ScratchPath, "records.db"));
            }
            catch
            {
                node.Dispose();
                throw;
            }
        }

        /// <summary>A new table of the SQLite file, and a store over it.</summary>
        public async Task<DbRecordStore> NewStoreAsync()
        {
            string table = $"records_{Interlocked.Increment(ref _tables).ToString(CultureInfo.InvariantCulture)}";
            DbConnection connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using DbCommand command = connection.CreateCommand();
                command.CommandText = DbRecordStore.CreateTableSql(table);
                _ = await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            return new DbRecordStore(OpenAsync, table, TimeProvider.System);
        }

        public async ValueTask DisposeAsync()
        {
            await _redis.CloseAsync().ConfigureAwait(false);
            _redis.Dispose();
            SqliteConnection.ClearAllPools();
            _node.Dispose();
        }

        /// <summary>A SQLite connection as the sql module opens them: WAL, a commit survives a crash, writers wait for each other.</summary>
        private async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
        {
            SqliteConnection connection = new(new SqliteConnectionStringBuilder { DataSource = _sqlitePath, Pooling = true, DefaultTimeout = 30 }.ToString());
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using SqliteCommand pragmas = connection.CreateCommand();
                pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
                _ = await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return connection;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }
}
