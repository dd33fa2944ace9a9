using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using Blueprint.Hosting;
using Blueprint.Shortener.Access;
using Blueprint.Sql;
using Microsoft.Extensions.Configuration;

namespace Blueprint.Node;

/// <summary><c>blueprint shortener create-key [--data-dir DIR]</c>: makes an API key for the node that uses that data directory.</summary>
internal static class ShortenerCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The data directory of the node the key is for (default: the one the node would use, ./.blueprint)." };
        var createKey = new Command("create-key", "Create an API key for the node's URL shortener and print it; only its hash is stored. Works while the node runs.");
        createKey.Options.Add(dataDir);
        createKey.SetAction((parse, cancellationToken) => CreateKeyAsync(parse.GetValue(dataDir), cancellationToken));
        var shortener = new Command("shortener", "Manage the URL shortener of a node.");
        shortener.Subcommands.Add(createKey);
        return shortener;
    }

    private static async Task<int> CreateKeyAsync(string? dataDir, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>();
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            overrides[$"{NodeOptions.Section}:{nameof(NodeOptions.DataDir)}"] = dataDir;
        }

        var configuration = BlueprintNode.LoadConfiguration(overrides);
        var node = configuration.GetSection(NodeOptions.Section).Get<NodeOptions>() ?? new NodeOptions();
        var sql = configuration.GetSection(SqlOptions.Section).Get<SqlOptions>() ?? new SqlOptions();
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(sql, new ValidationContext(sql), errors, validateAllProperties: true))
        {
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync($"blueprint: {SqlOptions.Section}:{string.Join(",", error.MemberNames)}: {error.ErrorMessage}").ConfigureAwait(false);
            }

            return StartupFailure.ExitCode;
        }

        try
        {
            var directory = new DataDirectory(node.DataDir);
            var database = SqlDatabases.Open(sql, directory);
            await using (database.ConfigureAwait(false))
            {
                var key = await ApiKeys.CreateAsync(database, TimeProvider.System, cancellationToken).ConfigureAwait(false);
                await Console.Out.WriteLineAsync(key).ConfigureAwait(false);
                return 0;
            }
        }
        catch (StartupProblemException e)
        {
            await Console.Error.WriteLineAsync($"blueprint: {e.Message}").ConfigureAwait(false);
            return StartupFailure.ExitCode;
        }
        catch (System.Data.Common.DbException e)
        {
            await Console.Error.WriteLineAsync($"blueprint: could not create a key in the database ({e.Message})").ConfigureAwait(false);
            return 1;
        }
    }
}
