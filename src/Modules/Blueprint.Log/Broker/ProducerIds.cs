using System.Globalization;

namespace Blueprint.Log.Broker;

/// <summary>
/// Hands out producer ids for idempotent producers (InitProducerId), never the same id twice across restarts: ids are
/// reserved in blocks whose end is written (and fsynced) before any id of the block is given, as Kafka's controller
/// reserves producer-id blocks.
/// </summary>
public sealed class ProducerIds
{
    private const long BlockSize = 1000;
    private readonly Lock gate = new();
    private readonly Func<string> locate;
    private string? path;
    private long next;
    private long reservedEnd;

    /// <summary>The allocator of the broker's data directory (found at the first id, once the broker has started).</summary>
    public ProducerIds(LogBroker broker)
        : this(() => Path.Combine((broker ?? throw new ArgumentNullException(nameof(broker))).Directory, "producer-ids"))
    {
    }

    private ProducerIds(Func<string> locate) => this.locate = locate;

    /// <summary>A producer id no producer had before.</summary>
    public long Next()
    {
        lock (gate)
        {
            if (path is null)
            {
                path = locate();
                if (File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var end))
                {
                    next = end;
                    reservedEnd = end;
                }
            }

            if (next >= reservedEnd)
            {
                var end = next + BlockSize;
                var temporary = path + ".tmp";
                using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    file.Write(System.Text.Encoding.ASCII.GetBytes(end.ToString(CultureInfo.InvariantCulture)));
                    file.Flush(flushToDisk: true);
                }

                File.Move(temporary, path, overwrite: true);
                reservedEnd = end;
            }

            return next++;
        }
    }
}
