using Blueprint.Sql;
using static Blueprint.Shortener.Storage.LinkSql;

namespace Blueprint.Shortener.Storage;

/// <summary>Moves links (with their click rows) to the shards the ring assigns them; see docs/shortener.md, Resharding.</summary>
internal static class Resharder
{
    /// <summary>
    /// Moves every link (with its click rows) that is not in the shard the ring assigns it to, from
    /// the node's database or any shard: copied first (<c>ON CONFLICT DO NOTHING</c>, so a rerun is
    /// harmless), and deleted from where it was only when <paramref name="prune"/> is set. Run with
    /// the new shard list; see docs/shortener.md for the procedure.
    /// </summary>
    public static async Task<(long Copied, long Pruned)> ReshardAsync(ShardRouter router, bool prune, CancellationToken cancellationToken)
    {
        if (!router.IsSharded)
        {
            return (0, 0);
        }

        long copied = 0;
        long pruned = 0;
        foreach (var source in router.Sources)
        {
            var after = "";
            while (true)
            {
                var page = await PageAsync(source, after, 1000, cancellationToken).ConfigureAwait(false);
                if (page.Count == 0)
                {
                    break;
                }

                after = page[^1].Code;
                foreach (var link in page)
                {
                    var owner = router.ShardOf(link.Code);
                    // The same database listed twice (a shard that is the node's own): nothing to move, and never prune.
                    if (ReferenceEquals(owner, source) || owner.Location == source.Location)
                    {
                        continue;
                    }

                    if (await CopyAsync(source, owner, link, cancellationToken).ConfigureAwait(false))
                    {
                        copied++;
                    }

                    if (prune && await DeleteFromAsync(source, link.Code, cancellationToken).ConfigureAwait(false))
                    {
                        pruned++;
                    }
                }
            }
        }

        return (copied, pruned);
    }

    /// <summary>Copies a link and its click rows into <paramref name="target"/>, in one transaction; false when the target already had it.</summary>
    private static async Task<bool> CopyAsync(ISqlDatabase source, ISqlDatabase target, Link link, CancellationToken cancellationToken)
    {
        var rows = new List<(string Table, string Column, object Key, long Clicks)>();
        var from = await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (from.ConfigureAwait(false))
        {
            foreach (var (table, column) in ClickTables)
            {
                await using var command = Command(from, $"SELECT {column}, clicks FROM {table} WHERE code = @code", ("@code", link.Code));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add((table, column, reader.GetValue(0), reader.GetInt64(1)));
                }
            }
        }

        var to = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (to.ConfigureAwait(false))
        {
            var transaction = await to.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                int inserted;
                await using (var insert = InsertCommand(to, link))
                {
                    insert.Transaction = transaction;
                    inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                foreach (var (table, column, key, clicks) in rows)
                {
                    await using var command = Command(to,
                        $"INSERT INTO {table} (code, {column}, clicks) VALUES (@code, @key, @clicks) ON CONFLICT (code, {column}) DO NOTHING",
                        ("@code", link.Code), ("@key", key), ("@clicks", clicks));
                    command.Transaction = transaction;
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return inserted == 1;
            }
        }
    }
}
