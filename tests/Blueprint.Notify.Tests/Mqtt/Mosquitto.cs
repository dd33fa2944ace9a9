using System.Globalization;

namespace Blueprint.Notify.Tests.Mqtt;

/// <summary>Debian's MQTT clients (mosquitto_pub, mosquitto_sub) against a test node's broker, on 127.0.0.1.</summary>
internal static class Mosquitto
{
    /// <summary>How long a client may take to connect, subscribe, receive or exit.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Starts mosquitto_sub in debug mode (<c>-d</c>) with <paramref name="arguments"/> and waits until the broker has
    /// acknowledged its subscriptions; every message then prints as set by the arguments (<c>-v</c>: topic and payload).
    /// </summary>
    public static async Task<ProcessRunner> SubscribeAsync(int port, params string[] arguments)
    {
        var subscriber = StartSubscriber(port, arguments);
        try
        {
            await subscriber.WaitForLineAsync(line => line.Contains("received SUBACK", StringComparison.Ordinal), Deadline);
        }
        catch
        {
            await subscriber.DisposeAsync();
            throw;
        }

        return subscriber;
    }

    /// <summary>
    /// Starts mosquitto_sub in debug mode without waiting for anything. Its output goes through <c>stdbuf -oL</c>: on a
    /// pipe mosquitto_sub's standard output is block-buffered, and a line waited for would stay in its buffer.
    /// </summary>
    public static ProcessRunner StartSubscriber(int port, params string[] arguments) =>
        ProcessRunner.Start(
            Peers.Require("stdbuf", "coreutils"),
            ["-oL", Peers.Require("mosquitto_sub", "mosquitto-clients"), .. Connection(port), "-d", .. arguments]);

    /// <summary>Runs mosquitto_pub in debug mode to its end: its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> PublishAsync(int port, params string[] arguments)
    {
        await using var publisher = ProcessRunner.Start(Peers.Require("mosquitto_pub", "mosquitto-clients"), [.. Connection(port), "-d", .. arguments]);
        var exitCode = await publisher.WaitForExitAsync(Deadline);
        return (exitCode, publisher.StandardOutput + publisher.StandardError);
    }

    /// <summary>Waits for the line mosquitto_sub <c>-v</c> prints for a message: the topic, a space, the payload.</summary>
    public static Task WaitForMessageAsync(this ProcessRunner subscriber, string topic, string payload) =>
        subscriber.WaitForOutputLineAsync(line => line == $"{topic} {payload}");

    /// <summary>
    /// Waits for a line of output, also when the process exits right after printing it (mosquitto_sub <c>-C</c>): the
    /// exit can be seen before its last lines are, so the whole output is read again once it has ended.
    /// </summary>
    public static async Task WaitForOutputLineAsync(this ProcessRunner process, Func<string, bool> condition)
    {
        try
        {
            await process.WaitForLineAsync(condition, Deadline);
        }
        catch (TimeoutException) when (process.HasExited)
        {
            await process.WaitForExitAsync(Deadline);
            if (!(process.StandardOutput + process.StandardError).Split('\n').Any(condition))
            {
                throw;
            }
        }
    }

    private static string[] Connection(int port) => ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)];
}
