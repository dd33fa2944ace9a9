using System.Globalization;
using System.Text.Json;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A RabbitMQ node from Debian's <c>rabbitmq-server</c> as a child process: every port (AMQP, Erlang distribution,
/// epmd) on 127.0.0.1 and free, its database, logs and cookie in a temporary directory, no plugins, and none of the
/// system's configuration. The lab starts epmd itself, so that it is a child stopped by its PID rather than the
/// daemon Erlang would leave behind. Stopped with <c>rabbitmqctl stop</c>, then killed by PID if still running.
/// </summary>
internal sealed class RabbitMqBroker : IAsyncDisposable
{
    /// <summary>The Debian package that provides the broker.</summary>
    public const string Package = "rabbitmq-server";

    /// <summary>How long the broker may take to listen (a first boot creates its database: about 7 s on 2 cores).</summary>
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(90);

    /// <summary>How long one <c>rabbitmqctl</c> command may take (each starts an Erlang VM: about 1 s).</summary>
    private static readonly TimeSpan CtlDeadline = TimeSpan.FromSeconds(60);

    private readonly LabEnvironment _environment;
    private readonly ScratchDirectory _directory;
    private readonly IReadOnlyDictionary<string, string> _variables;
    private readonly ChildProcess _epmd;
    private ChildProcess? _server;

    private RabbitMqBroker(LabEnvironment environment, ScratchDirectory directory, IReadOnlyDictionary<string, string> variables, ChildProcess epmd, int port)
    {
        _environment = environment;
        _directory = directory;
        _variables = variables;
        _epmd = epmd;
        Port = port;
    }

    /// <summary>Gets the AMQP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Gets the broker's database directory (queues, message store).</summary>
    public string DatabaseDirectory => Path.Combine(_directory.Path, "mnesia");

    /// <summary>Starts a broker and waits until it accepts AMQP connections.</summary>
    /// <exception cref="LabPrerequisiteException">RabbitMQ is not installed, or it did not start in time.</exception>
    public static async Task<RabbitMqBroker> StartAsync(LabEnvironment environment, CancellationToken cancellationToken)
    {
        if (!environment.HasRabbitMq)
        {
            throw new LabPrerequisiteException($"this experiment runs RabbitMQ and {environment.RabbitMqServer} is not installed (apt-get install {Package})");
        }

        ScratchDirectory directory = new("blueprint-lab-rabbitmq");
        string epmdPort = LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture);
        int port = LoopbackPorts.Next();
        string configuration = directory.Subdirectory("etc");
        string plugins = Path.Combine(configuration, "enabled_plugins");
        File.WriteAllText(plugins, "[].");
        File.WriteAllText(Path.Combine(configuration, "rabbitmq-env.conf"), string.Empty);
        const string LoopbackOnly = "-kernel inet_dist_use_interface {127,0,0,1}";
        Dictionary<string, string> variables = new()
        {
            ["HOME"] = directory.Subdirectory("home"),
            ["RABBITMQ_NODENAME"] = "rabbit@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = LoopbackPorts.Next().ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["ERL_EPMD_PORT"] = epmdPort,
            ["RABBITMQ_MNESIA_BASE"] = directory.Subdirectory("mnesia"),
            ["RABBITMQ_LOG_BASE"] = directory.Subdirectory("log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins,
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(configuration, "rabbitmq-env.conf"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(configuration, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(configuration, "advanced.config"),
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = LoopbackOnly,
            ["RABBITMQ_CTL_ERL_ARGS"] = LoopbackOnly,
        };

        ChildProcess? epmd = null;
        RabbitMqBroker? broker = null;
        try
        {
            epmd = ChildProcess.Start("epmd", environment.Epmd, ["-address", "127.0.0.1", "-port", epmdPort], variables, directory.Path);
            await epmd.WaitForPortAsync(int.Parse(epmdPort, CultureInfo.InvariantCulture), StartDeadline, cancellationToken).ConfigureAwait(false);
            broker = new RabbitMqBroker(environment, directory, variables, epmd, port);
            broker._server = ChildProcess.Start("rabbitmq-server", environment.RabbitMqServer, [], variables, directory.Path);
            await broker._server.WaitForPortAsync(port, StartDeadline, cancellationToken).ConfigureAwait(false);
            return broker;
        }
        catch
        {
            if (broker is not null)
            {
                await broker.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                epmd?.Dispose();
                directory.Dispose();
            }

            throw;
        }
    }

    /// <summary>Every queue with its ready and unacknowledged messages and their body bytes (<c>rabbitmqctl list_queues</c>).</summary>
    public async Task<IReadOnlyList<QueueStatus>> ListQueuesAsync()
    {
        string json = await ChildProcess.RunAsync("rabbitmqctl list_queues", _environment.RabbitMqCtl,
            ["--quiet", "list_queues", "name", "messages", "message_bytes", "--formatter", "json"], _variables, _directory.Path, CtlDeadline).ConfigureAwait(false);
        using JsonDocument document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(queue => new QueueStatus(
            queue.GetProperty("name").GetString() ?? string.Empty,
            queue.GetProperty("messages").GetInt64(),
            queue.GetProperty("message_bytes").GetInt64()))];
    }

    /// <summary>Stops the broker (<c>rabbitmqctl stop</c>, then a kill by PID if it still runs), then epmd, and deletes its data.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_server is { HasExited: false } server)
        {
            try
            {
                _ = await ChildProcess.RunAsync("rabbitmqctl stop", _environment.RabbitMqCtl, ["stop"], _variables, _directory.Path, CtlDeadline).ConfigureAwait(false);
                _ = server.WaitForExit(CtlDeadline);
            }
            catch (LabPrerequisiteException)
            {
                // A broker that will not stop politely is killed below.
            }
        }

        _server?.Dispose();
        _epmd.Dispose();
        _directory.Dispose();
    }
}

/// <summary>One queue as <c>rabbitmqctl list_queues</c> reports it.</summary>
/// <param name="Name">The queue name.</param>
/// <param name="Messages">Ready plus unacknowledged messages.</param>
/// <param name="MessageBytes">The sum of those messages' body sizes.</param>
internal sealed record QueueStatus(string Name, long Messages, long MessageBytes);
