using System.Reflection;

namespace Blueprint.Lab.Processes;

/// <summary>How to start the <c>blueprint</c> executable: a program and the arguments that come before the verb.</summary>
/// <param name="FileName">The program: the <c>blueprint</c> apphost, or the <c>dotnet</c> host.</param>
/// <param name="LeadingArguments">Arguments before the verb: the path of <c>blueprint.dll</c> when the program is <c>dotnet</c>.</param>
public sealed record NodeCommand(string FileName, IReadOnlyList<string> LeadingArguments);

/// <summary>
/// Where the programs live that experiments start as child processes: the <c>blueprint</c> node (the lab references no
/// module, so an experiment on the log drives a real node process) and RabbitMQ from Debian's <c>rabbitmq-server</c>.
/// </summary>
/// <param name="Node">How to start <c>blueprint</c>; null when it cannot be found.</param>
/// <param name="RabbitMqDirectory">The directory of <c>rabbitmq-server</c> and <c>rabbitmqctl</c> (the scripts that do not switch user).</param>
/// <param name="Epmd">Erlang's port mapper, started by the lab so that it is a child it can stop by PID.</param>
public sealed record LabEnvironment(NodeCommand? Node, string RabbitMqDirectory, string Epmd)
{
    /// <summary>The assembly name of the executable.</summary>
    public const string NodeAssemblyName = "blueprint";

    /// <summary>
    /// The environment variable that makes a node stop when the named process is gone (the node's <c>ParentWatch</c>):
    /// a lab killed with SIGKILL leaves no node behind.
    /// </summary>
    public const string ExitWithParentVariable = "BLUEPRINT_EXIT_WITH_PARENT";

    /// <summary>Where Debian's <c>rabbitmq-server</c> package puts the scripts that run as the calling user.</summary>
    public const string DebianRabbitMqDirectory = "/usr/lib/rabbitmq/bin";

    /// <summary>Where Debian's <c>erlang-base</c> package links <c>epmd</c>.</summary>
    public const string DebianEpmd = "/usr/bin/epmd";

    /// <summary>Gets the path of <c>rabbitmq-server</c>.</summary>
    public string RabbitMqServer => Path.Combine(RabbitMqDirectory, "rabbitmq-server");

    /// <summary>Gets the path of <c>rabbitmqctl</c>.</summary>
    public string RabbitMqCtl => Path.Combine(RabbitMqDirectory, "rabbitmqctl");

    /// <summary>Gets whether RabbitMQ and epmd are installed.</summary>
    public bool HasRabbitMq => File.Exists(RabbitMqServer) && File.Exists(RabbitMqCtl) && File.Exists(Epmd);

    /// <summary>
    /// Describes this process's environment: inside <c>blueprint</c> the node is this executable; elsewhere (a test
    /// project that references the node project) it is the <c>blueprint.dll</c> built beside this assembly.
    /// </summary>
    /// <returns>The environment.</returns>
    public static LabEnvironment Detect() => new(DetectNode(), DebianRabbitMqDirectory, DebianEpmd);

    private static NodeCommand? DetectNode()
    {
        string? self = Environment.ProcessPath;
        Assembly? entry = Assembly.GetEntryAssembly();
        bool hostedByDotnet = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet";
        if (self is not null && entry?.GetName().Name == NodeAssemblyName)
        {
            return hostedByDotnet ? new NodeCommand(self, [entry.Location]) : new NodeCommand(self, []);
        }

        string beside = Path.Combine(AppContext.BaseDirectory, NodeAssemblyName + ".dll");
        if (!File.Exists(beside))
        {
            return null;
        }

        // `dotnet test` names its host; a test apphost started directly falls back to the one on PATH.
        string dotnet = hostedByDotnet ? self! : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        return new NodeCommand(dotnet, [beside]);
    }
}
