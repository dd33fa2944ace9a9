using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Blueprint.Notify.Mqtt;

/// <summary>
/// The broker's retained messages on disk: one JSON file, replaced whole (written to a temporary file, flushed to disk,
/// renamed over the old one) so a crash leaves either the previous set or the new one. Changes are written by one
/// background writer that always takes the latest set: a burst of retained publishes costs one write, not one each.
/// <see cref="DisposeAsync"/> writes what is still pending.
/// </summary>
internal sealed class RetainedMessageFile : IAsyncDisposable
{
    /// <summary>The format's version, written in the file and checked when it is read.</summary>
    public const int FormatVersion = 1;

    private readonly Channel<IReadOnlyList<MqttApplicationMessage>> _pending =
        Channel.CreateBounded<IReadOnlyList<MqttApplicationMessage>>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

    private readonly Task _writer;

    /// <summary>Opens the file at <paramref name="path"/> (its directory is created) and starts the writer.</summary>
    public RetainedMessageFile(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The last error of the writer, or null when every write so far succeeded.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Called when a write fails (the next change tries again).</summary>
    public Action<Exception>? Failed { get; init; }

    /// <summary>The retained messages in the file; none when it does not exist.</summary>
    /// <exception cref="JsonException">The file is not a retained-message file of this format.</exception>
    public List<MqttApplicationMessage> Load()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(Path));
        var root = document.RootElement;
        if (!root.TryGetProperty("version", out var version) || version.GetInt32() != FormatVersion)
        {
            throw new JsonException($"not a retained-message file of version {FormatVersion}");
        }

        var messages = new List<MqttApplicationMessage>();
        foreach (var item in root.GetProperty("messages").EnumerateArray())
        {
            messages.Add(Read(item));
        }

        return messages;
    }

    /// <summary>Queues <paramref name="messages"/> (the whole retained set) to be written; a later set replaces it if it has not been written yet.</summary>
    public void Save(IReadOnlyList<MqttApplicationMessage> messages) => _pending.Writer.TryWrite(messages);

    /// <summary>Writes the set still queued, then stops the writer.</summary>
    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        await foreach (var messages in _pending.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await WriteAsync(messages).ConfigureAwait(false);
                LastError = null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LastError = e;
                Failed?.Invoke(e);
            }
        }
    }

    private async Task WriteAsync(IReadOnlyList<MqttApplicationMessage> messages)
    {
        var temporary = Path + ".tmp";
        var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            var json = new Utf8JsonWriter(stream);
            await using (json.ConfigureAwait(false))
            {
                json.WriteStartObject();
                json.WriteNumber("version", FormatVersion);
                json.WriteStartArray("messages");
                foreach (var message in messages)
                {
                    Write(json, message);
                }

                json.WriteEndArray();
                json.WriteEndObject();
                await json.FlushAsync().ConfigureAwait(false);
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }

    private static void Write(Utf8JsonWriter json, MqttApplicationMessage message)
    {
        json.WriteStartObject();
        json.WriteString("topic", message.Topic);
        json.WriteNumber("qos", (int)message.QualityOfServiceLevel);
        json.WriteBase64String("payload", message.Payload.ToArray());
        if (message.ContentType is { } contentType)
        {
            json.WriteString("contentType", contentType);
        }

        if (message.ResponseTopic is { } responseTopic)
        {
            json.WriteString("responseTopic", responseTopic);
        }

        if (message.CorrelationData is { } correlationData)
        {
            json.WriteBase64String("correlationData", correlationData);
        }

        if (message.PayloadFormatIndicator != MqttPayloadFormatIndicator.Unspecified)
        {
            json.WriteNumber("payloadFormat", (int)message.PayloadFormatIndicator);
        }

        if (message.MessageExpiryInterval != 0)
        {
            json.WriteNumber("expirySeconds", message.MessageExpiryInterval);
        }

        if (message.UserProperties is { Count: > 0 } properties)
        {
            json.WriteStartArray("userProperties");
            foreach (var property in properties)
            {
                json.WriteStartArray();
                json.WriteStringValue(property.Name);
                json.WriteStringValue(property.ReadValueAsString());
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static MqttApplicationMessage Read(JsonElement item)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(item.GetProperty("topic").GetString())
            .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)item.GetProperty("qos").GetInt32())
            .WithPayload(item.GetProperty("payload").GetBytesFromBase64())
            .WithRetainFlag();
        if (item.TryGetProperty("contentType", out var contentType))
        {
            builder.WithContentType(contentType.GetString());
        }

        if (item.TryGetProperty("responseTopic", out var responseTopic))
        {
            builder.WithResponseTopic(responseTopic.GetString());
        }

        if (item.TryGetProperty("correlationData", out var correlationData))
        {
            builder.WithCorrelationData(correlationData.GetBytesFromBase64());
        }

        if (item.TryGetProperty("payloadFormat", out var payloadFormat))
        {
            builder.WithPayloadFormatIndicator((MqttPayloadFormatIndicator)payloadFormat.GetInt32());
        }

        if (item.TryGetProperty("expirySeconds", out var expiry))
        {
            builder.WithMessageExpiryInterval(expiry.GetUInt32());
        }

        if (item.TryGetProperty("userProperties", out var properties))
        {
            foreach (var property in properties.EnumerateArray())
            {
                builder.WithUserProperty(property[0].GetString(), Encoding.UTF8.GetBytes(property[1].GetString() ?? "").AsMemory());
            }
        }

        return builder.Build();
    }
}
