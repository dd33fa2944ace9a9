using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using Blueprint.Hosting;
using Blueprint.Shortener.Access;
using Blueprint.Sql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Shortener;

/// <summary>
/// <c>blueprint shortener create-key|reshard [--data-dir DIR]</c>: work on the shortener's databases
/// of the node that uses that data directory, with the node's configuration layers. Both work while
/// the node runs.
/// </summary>
internal static class ShortenerCommand
{
    /// <summary>The module that owns the databases.</summary>
    private const string SqlModuleName = "sql";

    public static Command Create(ModuleCatalog catalog)
    {
        var shortener = new Command("shortener", "Manage the URL shortener of a node.");

        var createKey = new Command("create-key", "Create an API key for the node's URL shortener and print it; only its hash is stored.");
        var keyDataDir = DataDirOption();
        createKey.Options.Add(keyDataDir);
        createKey.SetAction((parse, cancellationToken) => WithDatabaseAsync(catalog, parse.GetValue(keyDataDir), async (database, _, _, _) =>
        {
            var key = await ApiKeys.CreateAsync(database, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(key).ConfigureAwait(false);
        }));
        shortener.Subcommands.Add(createKey);

        var reshard = new Command("reshard", "Copy every link to the shard that Shortener:Shards assigns it (run with the new list); with --prune, also delete it where it was. See docs/shortener.md.");
        var reshardDataDir = DataDirOption();
        var prune = new Option<bool>("--prune") { Description = "Delete each moved link from where it was (once every node runs the new shard list)." };
        reshard.Options.Add(reshardDataDir);
        reshard.Options.Add(prune);
        reshard.SetAction((parse, cancellationToken) => WithDatabaseAsync(catalog, parse.GetValue(reshardDataDir), async (database, opener, configuration, directory) =>
        {
            var options = configuration.GetSection(ShortenerOptions.Section).Get<ShortenerOptions>() ?? new ShortenerOptions();
            if (!IsValid(ShortenerOptions.Section, options))
            {
                throw new OptionsInvalidException();
            }

            if (options.Shards.Count == 0)
            {
                await Console.Error.WriteLineAsync("blueprint: Shortener:Shards is empty: there is nothing to reshard into").ConfigureAwait(false);
                throw new OptionsInvalidException();
            }

            var (copied, pruned) = await ShortenerMaintenance.ReshardAsync(database, opener, options, directory, parse.GetValue(prune), cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"copied {copied} links to their shards; deleted {pruned} from where they were").ConfigureAwait(false);
        }));
        shortener.Subcommands.Add(reshard);
        return shortener;
    }

    private static Option<string> DataDirOption() =>
        new("--data-dir") { Description = "The data directory of the node (default: the one the node would use, ./.blueprint)." };

    /// <summary>
    /// Runs <paramref name="action"/> on the node's databases: a node of the catalog's <c>sql</c> module alone is composed
    /// (not started) with the node's configuration layers, so the database is the one the node uses, opened on the sql
    /// module's engines. Bad configuration is reported as the node reports it, exit 2.
    /// </summary>
    private static async Task<int> WithDatabaseAsync(
        ModuleCatalog catalog, string? dataDir, Func<ISqlDatabase, ISqlDatabaseOpener, IConfiguration, DataDirectory, Task> action)
    {
        var overrides = new Dictionary<string, string?> { [$"{NodeOptions.Section}:{nameof(NodeOptions.Modules)}"] = SqlModuleName };
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            overrides[$"{NodeOptions.Section}:{nameof(NodeOptions.DataDir)}"] = dataDir;
        }

        BlueprintNode? node = null;
        try
        {
            node = BlueprintNode.Create(catalog, overrides);
            var services = node.Services;
            var directory = services.GetRequiredService<DataDirectory>();
            await action(
                services.GetRequiredService<ISqlDatabase>(),
                services.GetRequiredService<ISqlDatabaseOpener>(),
                services.GetRequiredService<IConfiguration>(),
                directory).ConfigureAwait(false);
            return 0;
        }
        catch (OptionsInvalidException)
        {
            return StartupFailure.ExitCode;
        }
        catch (Exception e) when (StartupFailure.Describe(e, catalog) is { } lines)
        {
            foreach (var line in lines)
            {
                await Console.Error.WriteLineAsync($"blueprint: {line}").ConfigureAwait(false);
            }

            return StartupFailure.ExitCode;
        }
        catch (System.Data.Common.DbException e)
        {
            await Console.Error.WriteLineAsync($"blueprint: the database failed ({e.Message})").ConfigureAwait(false);
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

    private static bool IsValid(string section, object options)
    {
        var errors = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            return true;
        }

        foreach (var error in errors)
        {
            Console.Error.WriteLine($"blueprint: {section}:{string.Join(",", error.MemberNames)}: {error.ErrorMessage}");
        }

        return false;
    }

    /// <summary>Options were invalid and have been reported.</summary>
    private sealed class OptionsInvalidException : Exception;
}
