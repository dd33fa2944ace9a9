using System.CommandLine;
using Blueprint.Hosting;
using Blueprint.Storage.Backup;
using Blueprint.Storage.Local;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Storage;

/// <summary>
/// <c>blueprint storage create-key|list-keys|delete-key [--data-dir DIR]</c>: the S3 access keys of the node that uses
/// that data directory (works while it runs); <c>backup</c> and <c>restore</c> of a bucket (see <see cref="BackupCommand"/>).
/// </summary>
internal static class StorageCommand
{
    public static Command Create(ModuleCatalog catalog)
    {
        var storage = new Command("storage", "Manage the object storage (S3 API) of a node.");

        var createKey = new Command("create-key", "Create an S3 access key and secret for the node and print them.");
        var createDataDir = DataDirOption();
        createKey.Options.Add(createDataDir);
        createKey.SetAction((parse, cancellationToken) => WithStoreAsync(catalog, parse.GetValue(createDataDir), async store =>
        {
            var (accessKey, secret) = await StorageKeys.CreateAsync(store.Meta, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"access key: {accessKey}\nsecret key: {secret}").ConfigureAwait(false);
            return 0;
        }));
        storage.Subcommands.Add(createKey);

        var listKeys = new Command("list-keys", "List the node's S3 access key ids (not their secrets).");
        var listDataDir = DataDirOption();
        listKeys.Options.Add(listDataDir);
        listKeys.SetAction((parse, cancellationToken) => WithStoreAsync(catalog, parse.GetValue(listDataDir), async store =>
        {
            foreach (var key in (await store.Meta.AccessKeysAsync(cancellationToken).ConfigureAwait(false)).Keys.Order(StringComparer.Ordinal))
            {
                await Console.Out.WriteLineAsync(key).ConfigureAwait(false);
            }

            return 0;
        }));
        storage.Subcommands.Add(listKeys);

        var deleteKey = new Command("delete-key", "Delete an S3 access key: requests signed with it are refused from then on.");
        var deleteDataDir = DataDirOption();
        var accessKeyArgument = new Argument<string>("access-key") { Description = "The access key id to delete." };
        deleteKey.Options.Add(deleteDataDir);
        deleteKey.Arguments.Add(accessKeyArgument);
        deleteKey.SetAction((parse, cancellationToken) => WithStoreAsync(catalog, parse.GetValue(deleteDataDir), async store =>
        {
            var accessKey = parse.GetValue(accessKeyArgument)!;
            if (await store.Meta.RemoveAccessKeyAsync(accessKey, cancellationToken).ConfigureAwait(false))
            {
                await Console.Out.WriteLineAsync($"deleted {accessKey}").ConfigureAwait(false);
                return 0;
            }

            await Console.Error.WriteLineAsync($"blueprint: there is no access key {accessKey}").ConfigureAwait(false);
            return StartupFailure.ExitCode;
        }));
        storage.Subcommands.Add(deleteKey);
        storage.Subcommands.Add(BackupCommand.CreateBackup());
        storage.Subcommands.Add(BackupCommand.CreateRestore());
        return storage;
    }

    private static Option<string> DataDirOption() =>
        new("--data-dir") { Description = "The data directory of the node (default: the one the node would use, ./.blueprint)." };

    /// <summary>Composes (without starting) a node of the storage module alone with the node's configuration layers, so the store is the one the node uses.</summary>
    private static async Task<int> WithStoreAsync(ModuleCatalog catalog, string? dataDir, Func<LocalStore, Task<int>> action)
    {
        var overrides = new Dictionary<string, string?> { [$"{NodeOptions.Section}:{nameof(NodeOptions.Modules)}"] = StorageModule.ModuleName };
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            overrides[$"{NodeOptions.Section}:{nameof(NodeOptions.DataDir)}"] = dataDir;
        }

        BlueprintNode? node = null;
        try
        {
            node = BlueprintNode.Create(catalog, overrides);
            return await action(node.Services.GetRequiredService<LocalStore>()).ConfigureAwait(false);
        }
        catch (Exception e) when (StartupFailure.Describe(e, catalog) is { } lines)
        {
            foreach (var line in lines)
            {
                await Console.Error.WriteLineAsync($"blueprint: {line}").ConfigureAwait(false);
            }

            return StartupFailure.ExitCode;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            await Console.Error.WriteLineAsync($"blueprint: the storage database failed ({e.Message})").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            if (node is not null)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
