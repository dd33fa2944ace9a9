using Blueprint.Hosting;
using Blueprint.Shortener.Storage;
using Blueprint.Sql;
using Microsoft.Extensions.Options;

namespace Blueprint.Shortener;

/// <summary>Operations on a shortener's databases that run without a node (command-line verbs).</summary>
public static class ShortenerMaintenance
{
    /// <summary>
    /// Moves links to the shards <paramref name="options"/> assign them (see <c>docs/shortener.md</c>,
    /// Resharding): copies every misplaced link with its clicks, and deletes the originals when
    /// <paramref name="prune"/> is set. Idempotent. Returns how many were copied and deleted.
    /// </summary>
    public static async Task<(long Copied, long Pruned)> ReshardAsync(
        ISqlDatabase primary, ISqlDatabaseOpener opener, ShortenerOptions options, DataDirectory dataDirectory, bool prune, CancellationToken cancellationToken = default)
    {
        var router = new ShardRouter(primary, opener, Options.Create(options), dataDirectory);
        await using (router.ConfigureAwait(false))
        {
            await router.MigrateAsync(cancellationToken).ConfigureAwait(false);
            return await Resharder.ReshardAsync(router, prune, cancellationToken).ConfigureAwait(false);
        }
    }
}
