using System.Globalization;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;

namespace Blueprint.Notify.Mqtt;

/// <summary>
/// MQTTnet's log on the node's: its errors and warnings as such, its information as debug and its verbose lines as
/// trace, under the category <c>MQTTnet</c>.
/// </summary>
internal sealed partial class MqttNetLogger(ILogger logger) : IMqttNetLogger
{
    /// <inheritdoc />
    public bool IsEnabled => logger.IsEnabled(LogLevel.Trace) || logger.IsEnabled(LogLevel.Warning);

    /// <inheritdoc />
    public void Publish(MqttNetLogLevel logLevel, string source, string message, object[] parameters, Exception exception)
    {
        var level = logLevel switch
        {
            MqttNetLogLevel.Error => LogLevel.Error,
            MqttNetLogLevel.Warning => LogLevel.Warning,
            MqttNetLogLevel.Info => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        if (!logger.IsEnabled(level))
        {
            return;
        }

        var text = parameters is { Length: > 0 } ? string.Format(CultureInfo.InvariantCulture, message, parameters) : message;
        Log(logger, level, source, text, exception);
    }

    [LoggerMessage(Message = "{Source}: {Text}")]
    private static partial void Log(ILogger logger, LogLevel level, string source, string text, Exception? exception);
}
