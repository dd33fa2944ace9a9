using Microsoft.Extensions.Logging;

namespace Blueprint.Kv;

/// <summary>
/// Hands Garnet the node's logging (same sinks, same format) but only from a minimum level:
/// Garnet logs its whole configuration and recovery at Information, which would drown the node's own lines.
/// </summary>
internal sealed class MinimumLevelLoggerFactory(ILoggerFactory inner, LogLevel minimum) : ILoggerFactory
{
    // Garnet's argument parser warns that the external factory overrides its log flags: that is the intent.
    public ILogger CreateLogger(string categoryName) =>
        new FilteredLogger(inner.CreateLogger(categoryName), categoryName == "ArgParser" ? LogLevel.Error : minimum);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The node owns the inner factory; disposing this wrapper must not dispose it.
    public void Dispose()
    {
    }

    private sealed class FilteredLogger(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
