using System.Data.Common;

namespace Blueprint.Sql;

/// <summary>Commands with named parameters, as modules write them for both engines.</summary>
public static class SqlCommands
{
    /// <summary>A command of <paramref name="sql"/> on <paramref name="connection"/> with <paramref name="parameters"/> (null as SQL NULL); dispose it when done.</summary>
    public static DbCommand Command(this DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parameters);
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}
