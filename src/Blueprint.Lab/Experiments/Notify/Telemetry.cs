using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

using MQTTnet.Exceptions;

namespace Blueprint.Lab.Experiments.Notify;

/// <summary>The four ways a reading travels in the MQTT-vs-WebSocket experiment.</summary>
internal enum TelemetryVariant
{
    /// <summary>MQTT 5, QoS 0 both ways.</summary>
    MqttQos0,

    /// <summary>MQTT 5, QoS 1 both ways.</summary>
    MqttQos1,

    /// <summary>One binary WebSocket frame holding the reading alone.</summary>
    WebSocketRaw,

    /// <summary>One text WebSocket frame holding a JSON envelope that names the topic, as an app must to route readings.</summary>
    WebSocketEnvelope,
}

/// <summary>The readings: a sequence number in 8 hex digits, padded to the size with ASCII, and their encodings.</summary>
internal static class Telemetry
{
    /// <summary>The topic every reading is published to (17 bytes), and the envelope's <c>topic</c>.</summary>
    public const string Topic = "sensors/0042/temp";

    private const int SequenceChars = 8;

    public static string Label(TelemetryVariant variant) => variant switch
    {
        TelemetryVariant.MqttQos0 => "MQTT 5 QoS 0",
        TelemetryVariant.MqttQos1 => "MQTT 5 QoS 1",
        TelemetryVariant.WebSocketRaw => "WebSocket, bare frame",
        _ => "WebSocket, JSON envelope",
    };

    public static bool IsMqtt(TelemetryVariant variant) => variant is TelemetryVariant.MqttQos0 or TelemetryVariant.MqttQos1;

    /// <summary>A reading of <paramref name="size"/> bytes (at least 8) that carries <paramref name="sequence"/>.</summary>
    public static byte[] Reading(int sequence, int size) =>
        Encoding.ASCII.GetBytes(sequence.ToString("x8", CultureInfo.InvariantCulture).PadRight(size, '0'));

    /// <summary>What a WebSocket client sends for a reading: the reading, or the envelope around it.</summary>
    public static byte[] Frame(TelemetryVariant variant, byte[] reading) =>
        variant == TelemetryVariant.WebSocketEnvelope
            ? JsonSerializer.SerializeToUtf8Bytes(new Envelope(Topic, Encoding.ASCII.GetString(reading)))
            : reading;

    /// <summary>The sequence number in a received reading or envelope.</summary>
    public static int Sequence(TelemetryVariant variant, ReadOnlySpan<byte> received)
    {
        string reading = variant == TelemetryVariant.WebSocketEnvelope
            ? JsonSerializer.Deserialize<Envelope>(received)?.Payload ?? ""
            : Encoding.ASCII.GetString(received[..SequenceChars]);
        return int.Parse(reading.AsSpan(0, SequenceChars), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>Whether <paramref name="exception"/> is a link that broke (reset, closed, timed out), which a sender survives by reconnecting.</summary>
    public static bool IsLinkFailure(Exception exception) =>
        exception is MqttCommunicationException or WebSocketException or IOException or SocketException
            or InvalidOperationException or ObjectDisposedException or OperationCanceledException;

    /// <summary>The payload of an MQTT message as an array.</summary>
    public static byte[] ToArray(ReadOnlySequence<byte> payload) => payload.ToArray();

    private sealed record Envelope(
        [property: System.Text.Json.Serialization.JsonPropertyName("topic")] string Topic,
        [property: System.Text.Json.Serialization.JsonPropertyName("payload")] string Payload);
}

/// <summary>What a subscriber received: the first arrival of each sequence number, duplicates, and waiters for one number.</summary>
internal sealed class Arrivals
{
    private readonly ConcurrentDictionary<int, long> _first = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<long>> _waiters = new();
    private long _duplicates;
    private long _last = Stopwatch.GetTimestamp();

    public int Distinct => _first.Count;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Gets the timestamp of the last arrival.</summary>
    public long LastArrival => Interlocked.Read(ref _last);

    public IReadOnlyDictionary<int, long> First => _first;

    public void Add(int sequence)
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _last, now);
        if (!_first.TryAdd(sequence, now))
        {
            _ = Interlocked.Increment(ref _duplicates);
            return;
        }

        if (_waiters.TryRemove(sequence, out TaskCompletionSource<long>? waiter))
        {
            _ = waiter.TrySetResult(now);
        }
    }

    /// <summary>A task that completes with the arrival time of <paramref name="sequence"/>; register before sending it.</summary>
    public Task<long> WaitFor(int sequence)
    {
        TaskCompletionSource<long> waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[sequence] = waiter;
        if (_first.TryGetValue(sequence, out long at))
        {
            _ = waiter.TrySetResult(at);
        }

        return waiter.Task;
    }
}
