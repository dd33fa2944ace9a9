using System.Globalization;

namespace Blueprint.Chat.Browser.Tests;

/// <summary>
/// Several in-process chat nodes for one test, each with its own <c>Chat:NodeId</c> (its index), so message ids from
/// different nodes never collide. The settings callback of <see cref="StartAsync"/> sees the nodes already started,
/// so a later node can be pointed at an earlier one (a shared KV or SQL, a peer list) once the chat fans out across nodes.
/// Each node has its own HTTP port: a browser tab opened on each is a user on each node.
/// </summary>
internal sealed class ChatNodes : IAsyncDisposable
{
    private readonly List<TestNode> _nodes = [];

    private ChatNodes()
    {
    }

    public IReadOnlyList<TestNode> Nodes => _nodes;

    public TestNode this[int index] => _nodes[index];

    /// <summary>Starts <paramref name="count"/> nodes one after another.</summary>
    /// <param name="count">How many nodes.</param>
    /// <param name="settings">Extra settings of the node at an index, given the nodes started before it; null: none.</param>
    public static async Task<ChatNodes> StartAsync(int count, Func<int, IReadOnlyList<TestNode>, IReadOnlyDictionary<string, string?>>? settings = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var nodes = new ChatNodes();
        try
        {
            for (var index = 0; index < count; index++)
            {
                var merged = new Dictionary<string, string?> { ["Chat:NodeId"] = index.ToString(CultureInfo.InvariantCulture) };
                foreach (var (key, value) in settings?.Invoke(index, nodes._nodes) ?? new Dictionary<string, string?>())
                {
                    merged[key] = value;
                }

                nodes._nodes.Add(await TestNode.StartAsync(settings: merged, cancellationToken: TestContext.Current.CancellationToken));
            }

            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the nodes, the last started first.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var index = _nodes.Count - 1; index >= 0; index--)
        {
            await _nodes[index].DisposeAsync();
        }
    }
}
