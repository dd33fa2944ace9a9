using System.Text;
using System.Text.Json;
using Blueprint.Log;
using Blueprint.Notify.Channels;
using Blueprint.Notify.State;

namespace Blueprint.Notify.Pipeline;

/// <summary>
/// Accepts published messages: checks them, writes them to <c>notify.accepted</c> and answers once the log has them
/// durably (the fan-out and delivery happen after, on the log). An <c>Idempotency-Key</c> returns the first answer for 24 hours.
/// </summary>
public sealed class Publisher(IEventLog log, NotifyState state, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _idempotent = new(1, 1);

    /// <inheritdoc />
    public void Dispose() => _idempotent.Dispose();

    /// <summary>Checks a message; the reason it is refused, or null.</summary>
    public string? Check(string? message, string? subject, string? structure, IReadOnlyDictionary<string, AttributeValue> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        if (string.IsNullOrEmpty(message))
        {
            return "Empty message";
        }

        var size = Encoding.UTF8.GetByteCount(message) + attributes.Sum(pair => Encoding.UTF8.GetByteCount(pair.Key) + Encoding.UTF8.GetByteCount(pair.Value.DataType)
            + (pair.Value.StringValue is { } text ? Encoding.UTF8.GetByteCount(text) : 0) + (pair.Value.BinaryValue?.Length ?? 0));
        if (size > state.Options.MaxMessageBytes)
        {
            return $"Message too long: {size} bytes with its attributes, over the limit of {state.Options.MaxMessageBytes}";
        }

        if (subject is not null && (subject.Length is 0 or > 100 || subject.Any(char.IsControl)))
        {
            return "Subject must be 1 to 100 characters without line breaks or control characters";
        }

        if (attributes.Count > 10)
        {
            return "Message has more than 10 attributes";
        }

        foreach (var (name, value) in attributes)
        {
            if (value.DataType is not ("String" or "Number" or "Binary" or "String.Array") && !value.DataType.StartsWith("String.", StringComparison.Ordinal)
                && !value.DataType.StartsWith("Number.", StringComparison.Ordinal) && !value.DataType.StartsWith("Binary.", StringComparison.Ordinal))
            {
                return $"The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.";
            }

            if (value.StringValue is null && value.BinaryValue is null)
            {
                return $"The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{value.DataType}'.";
            }
        }

        if (structure is not null)
        {
            if (structure != "json")
            {
                return "MessageStructure must be json";
            }

            try
            {
                using var document = JsonDocument.Parse(message);
                if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("default", out var fallback) || fallback.ValueKind != JsonValueKind.String)
                {
                    return "Message Structure - No default entry in JSON message body";
                }

                if (document.RootElement.EnumerateObject().Any(property => property.Value.ValueKind != JsonValueKind.String))
                {
                    return "Message Structure - every entry must be a string";
                }
            }
            catch (JsonException)
            {
                return "Message Structure - JSON message body failed to parse";
            }
        }

        return null;
    }

    /// <summary>Accepts messages for one topic, checked already, as one durable append; their message ids in order.</summary>
    public async Task<IReadOnlyList<string>> AcceptAsync(IReadOnlyList<AcceptedMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var partitions = log.PartitionCount(PipelineTopics.Accepted);
        var records = messages.Select(message => (Partition: Blueprint.Core.Hashing.Murmur2.Partition(Encoding.UTF8.GetBytes(message.MessageId), partitions), Message: message));
        foreach (var group in records.GroupBy(record => record.Partition))
        {
            await log.AppendAsync(
                PipelineTopics.Accepted,
                [.. group.Select(record => new LogMessage(Encoding.UTF8.GetBytes(record.Message.MessageId), JsonSerializer.SerializeToUtf8Bytes(record.Message, PipelineJson.Options)))],
                group.Key,
                cancellationToken).ConfigureAwait(false);
        }

        return [.. messages.Select(message => message.MessageId)];
    }

    /// <summary>A new message, stamped now with a fresh id.</summary>
    public AcceptedMessage Create(string topicArn, string message, string? subject, string? structure, Dictionary<string, AttributeValue> attributes) =>
        new(Guid.NewGuid().ToString("D"), topicArn, subject, message, structure, attributes, time.GetUtcNow());

    /// <summary>
    /// Accepts one message under an idempotency key: the first call within 24 hours accepts it, later ones get its id
    /// without publishing again. Calls with one key are serialized so two racing first calls publish once.
    /// </summary>
    public async Task<(string MessageId, bool Replayed)> AcceptOnceAsync(string? idempotencyKey, AcceptedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return ((await AcceptAsync([message], cancellationToken).ConfigureAwait(false))[0], false);
        }

        await _idempotent.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (state.FindIdempotent(idempotencyKey) is { } earlier)
            {
                return (earlier.MessageId, true);
            }

            await AcceptAsync([message], cancellationToken).ConfigureAwait(false);
            await state.RememberAsync(new IdempotencyRecord(idempotencyKey, message.MessageId, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            return (message.MessageId, false);
        }
        finally
        {
            _idempotent.Release();
        }
    }
}

/// <summary>The JSON options of the pipeline's records.</summary>
internal static class PipelineJson
{
    /// <summary>Web defaults (camelCase).</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
