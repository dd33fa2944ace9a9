using System.Globalization;

namespace Blueprint.Log.Broker;

/// <summary>
/// Hands out producer ids for idempotent producers (InitProducerId), never the same id twice across restarts: ids are
/// reserved in blocks whose end is written (and fsynced) before any id of the block is given, as Kafka's controller
/// reserves producer-id blocks. In a cluster each broker hands out its own ids with its broker id in bits 40 and up,
/// so no two brokers ever give the same id (a producer keeps its id when its partitions move to another leader).
/// </summary>
public sealed class ProducerIds
{
    private const long BlockSize = 1000;
    private readonly Lock gate = new();
    private readonly Func<string> locate;
    private readonly Func<long> prefix;
    private string? path;
    private long next;
    private long reservedEnd;

    /// <summary>The allocator of the broker's data directory (found at the first id, once the broker has started).</summary>
    public ProducerIds(LogBroker broker)
        : this(
            () => Path.Combine((broker ?? throw new ArgumentNullException(nameof(broker))).Directory, "producer-ids"),
            () => broker.Options.IsClustered ? (long)broker.Options.BrokerId << 40 : 0)
    {
    }

    private ProducerIds(Func<string> locate, Func<long> prefix)
    {
        this.locate = locate;
        this.prefix = prefix;
    }

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

            return prefix() | next++;
        }
    }
}
