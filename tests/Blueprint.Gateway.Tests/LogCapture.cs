using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Blueprint.Gateway.Tests;

/// <summary>Keeps the node's log messages at or above a level, optionally of one category.</summary>
internal sealed class LogCapture(LogLevel minimum = LogLevel.Error, string? category = null) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IEnumerable<string> Messages => _messages;

    public ILogger CreateLogger(string categoryName) =>
        new Logger(_messages, category is null || category == categoryName ? minimum : LogLevel.None);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> messages, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => minimum != LogLevel.None && logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                messages.Enqueue($"{formatter(state, exception)} {exception}");
            }
        }
    }
}
