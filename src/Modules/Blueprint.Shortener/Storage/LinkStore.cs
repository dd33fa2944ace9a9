using System.Data.Common;
using Blueprint.Sql;
using static Blueprint.Shortener.Storage.LinkSql;

namespace Blueprint.Shortener.Storage;

/// <summary>
/// The links' source of truth, over the databases <see cref="ShardRouter"/> assigns: insert, find, delete, list and
/// count, and the module's settings in the node's own database.
/// </summary>
internal sealed class LinkStore(ShardRouter router)
{
    /// <summary>Inserts <paramref name="link"/>; false when its code is taken.</summary>
    public async Task<bool> TryInsertAsync(Link link, CancellationToken cancellationToken)
    {
        var connection = await router.ShardOf(link.Code).OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = InsertCommand(connection, link);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }
    }

    /// <summary>The link with <paramref name="code"/>, or null.</summary>
    public async Task<Link?> FindAsync(string code, CancellationToken cancellationToken)
    {
        var owner = router.ShardOf(code);
        var link = await FindInAsync(owner, code, cancellationToken).ConfigureAwait(false);
        // Mid-reshard a link may not be in its owner yet (the Bloom filter keeps most misses from getting here).
        foreach (var other in router.Everywhere)
        {
            if (link is not null)
            {
                break;
            }

            if (!ReferenceEquals(other, owner))
            {
                link = await FindInAsync(other, code, cancellationToken).ConfigureAwait(false);
            }
        }

        return link;
    }

    private static async Task<Link?> FindInAsync(ISqlDatabase database, string code, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = Command(connection, $"SELECT {Columns} FROM shortener_links WHERE code = @code", ("@code", code));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadLink(reader) : null;
        }
    }

    /// <summary>Deletes the link and its click counts; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string code, CancellationToken cancellationToken)
    {
        // Everywhere, so a copy left by a reshard in progress cannot come back.
        var deleted = false;
        foreach (var database in router.Everywhere)
        {
            deleted |= await DeleteFromAsync(database, code, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> links with codes after <paramref name="after"/>, in ordinal
    /// code order (keyset pagination: no offset, stable under inserts). Across shards, each is asked
    /// for a page and the pages are merged.
    /// </summary>
    public async Task<IReadOnlyList<Link>> ListAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var merged = new List<Link>();
        foreach (var shard in router.Shards)
        {
            merged.AddRange(await PageAsync(shard, after ?? "", limit, cancellationToken).ConfigureAwait(false));
        }

        merged.Sort((left, right) => string.CompareOrdinal(left.Code, right.Code));
        return merged.Count > limit ? merged.GetRange(0, limit) : merged;
    }

    /// <summary>Every code, shard by shard, streamed (for the Bloom filter).</summary>
    public async IAsyncEnumerable<string> AllCodesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var shard in router.Everywhere)
        {
            var connection = await shard.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await using var command = Command(connection, "SELECT code FROM shortener_links");
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return reader.GetString(0);
                }
            }
        }
    }

    /// <summary>How many links there are, over every shard.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        foreach (var shard in router.Everywhere)
        {
            count += await ScalarAsync(shard, "SELECT COUNT(*) FROM shortener_links", cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>The highest generated ID stored anywhere, or -1.</summary>
    public async Task<long> MaxIdAsync(CancellationToken cancellationToken)
    {
        long max = -1;
        foreach (var shard in router.Everywhere)
        {
            max = Math.Max(max, await ScalarAsync(shard, "SELECT COALESCE(MAX(id), -1) FROM shortener_links", cancellationToken).ConfigureAwait(false));
        }

        return max;
    }

    /// <summary>Reads a setting from the node's database, first inserting <paramref name="proposed"/> if there is none (the first node to start wins).</summary>
    public async Task<string> GetOrAddSettingAsync(string name, string proposed, CancellationToken cancellationToken)
    {
        var connection = await router.Primary.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using (var insert = Command(connection, "INSERT INTO shortener_settings (name, value) VALUES (@name, @value) ON CONFLICT (name) DO NOTHING", ("@name", name), ("@value", proposed)))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var select = Command(connection, "SELECT value FROM shortener_settings WHERE name = @name", ("@name", name));
            return (string)(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }
}
