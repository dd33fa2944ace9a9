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
    /// <summary>How long a node may take to listen.</summary>
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A <c>blueprint run</c> node as a child process on free loopback ports with a temporary data directory, killed by
    /// its PID (SIGKILL: a crash) and its directory deleted on dispose.
    /// </summary>
    private sealed class NodeProcess : IDisposable
    {
        private readonly ChildProcess _process;
        private readonly ScratchDirectory _directory;

        private NodeProcess(ChildProcess process, ScratchDirectory directory, int respPort, int httpPort)
        {
            _process = process;
            _directory = directory;
            RespPort = respPort;
            HttpPort = httpPort;
        }

        public int RespPort { get; }

        public int HttpPort { get; }

        /// <summary>Gets the node's SQLite database (the sql module's default file).</summary>
        public string SqlitePath => Path.Combine(_directory.Path, "data", "sql", "blueprint.db");

        /// <summary>Gets a directory for the experiment's own files, deleted with the node's.</summary>
        public string ScratchPath => _directory.Subdirectory("lab");

        public static async Task<NodeProcess> StartAsync(LabEnvironment environment, string modules, IReadOnlyDictionary<string, string> settings)
        {
            NodeCommand node = environment.Node
                ?? throw new LabPrerequisiteException("this experiment runs a Blueprint node and the blueprint executable was not found; run it as 'blueprint lab'");
            ScratchDirectory directory = new("blueprint-lab-cache");
            int respPort = LoopbackPorts.Next();
            int httpPort = LoopbackPorts.Next();
            string[] arguments =
            [
                .. node.LeadingArguments,
                "run",
                "--modules", modules,
                "--resp-port", respPort.ToString(CultureInfo.InvariantCulture),
                "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
                "--data-dir", Path.Combine(directory.Path, "data"),
            ];
            Dictionary<string, string> variables = new(settings)
            {
                [LabEnvironment.ExitWithParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            };
            ChildProcess? process = null;
            try
            {
                process = ChildProcess.Start("the blueprint node", node.FileName, arguments, variables, directory.Path);
                // The HTTP port opens after every module has started (the cache module's table exists by then).
                await process.WaitForPortAsync(httpPort, StartDeadline, CancellationToken.None).ConfigureAwait(false);
                return new NodeProcess(process, directory, respPort, httpPort);
            }
            catch
            {
                process?.Dispose();
                directory.Dispose();
                throw;
            }
        }

        /// <summary>Kills the node with SIGKILL, as a crash would, and waits for it to be gone.</summary>
        public void Crash() => _process.Kill();

        public void Dispose()
        {
            _process.Dispose();
            _directory.Dispose();
        }
    }

    /// <summary>The RESP engine of a kv node and a SQLite file beside it: what the in-process patterns run on.</summary>
    private sealed class Backends : IAsyncDisposable
    {
        private readonly NodeProcess _node;
        private readonly ConnectionMultiplexer _redis;
        private readonly string _sqlitePath;
        private int _tables;

        private Backends(NodeProcess node, ConnectionMultiplexer redis, string sqlitePath)
        {
            _node = node;
            _redis = redis;
            _sqlitePath = sqlitePath;
        }

        public IDatabase Database => _redis.GetDatabase();

        public static async Task<Backends> StartAsync(LabEnvironment environment)
        {
            NodeProcess node = await NodeProcess.StartAsync(environment, "kv", new Dictionary<string, string>()).ConfigureAwait(false);
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
