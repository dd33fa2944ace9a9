using System.Text;
using Blueprint.Log.Broker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.Log.Http;

/// <summary>Records and consumer groups over HTTP.</summary>
internal static partial class LogEndpoints
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void MapRecords(RouteGroupBuilder api)
    {
        api.MapPost("/topics/{name}/records", AppendAsync);
        api.MapGet("/topics/{name}/partitions/{partition:int}/records", ReadAsync);
    }

    private static void MapGroups(RouteGroupBuilder api)
    {
        api.MapGet("/groups", (LogBroker broker) => Results.Ok(broker.Groups.ListGroups()
            .Select(group => new GroupSummary(group.GroupId, group.ProtocolType, group.State)).ToList()));
        api.MapGet("/groups/{id}", (string id, LogBroker broker) =>
        {
            var described = broker.Groups.DescribeGroups([id]).Single();
            var offsets = broker.Groups.FetchOffsets(id, null);
            var committed = offsets.Offsets
                .Select(offset => (offset.Topic, offset.Partition, offset.Offset))
                .Where(entry => entry.Offset >= 0)
                .Select(entry => new CommittedOffset(entry.Topic, entry.Partition, entry.Offset, Lag(broker, entry.Topic, entry.Partition, entry.Offset)))
                .ToList();
            if (described.State == "Dead" && committed.Count == 0)
            {
                return Problem(StatusCodes.Status404NotFound, "No such group", $"there is no consumer group '{id}'");
            }

            return Results.Ok(new GroupDetail(
                described.GroupId, described.State, described.ProtocolType, described.Protocol,
                [.. described.Members.Select(member => new GroupMember(member.MemberId, member.ClientId, member.ClientHost))],
                committed));
        });
    }

    private static async Task<IResult> AppendAsync(string name, AppendBody? body, IEventLog log, LogBroker broker, CancellationToken cancellationToken)
    {
        if (!broker.Topics.TryGet(name, out var topic))
        {
            return NoTopic(name);
        }

        if (body?.Records is not { Count: > 0 } records)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid records", "send {\"records\": [{\"key\": \"k\", \"value\": \"v\"}]}");
        }

        if (records.Count > MaxRecordsPerRequest)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid records", $"send at most {MaxRecordsPerRequest} records per request");
        }

        if (body.Partition is { } partition && (partition < 0 || partition >= topic.Partitions.Count))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid partition", $"topic '{name}' has partitions 0 to {topic.Partitions.Count - 1}");
        }

        var messages = records.Select(record => new LogMessage(
            record.Key is null ? null : Encoding.UTF8.GetBytes(record.Key),
            record.Value is null ? null : Encoding.UTF8.GetBytes(record.Value),
            record.Headers?.Select(header => new KeyValuePair<string, byte[]?>(header.Key, header.Value is null ? null : Encoding.UTF8.GetBytes(header.Value))).ToList())).ToList();
        try
        {
            var position = await log.AppendAsync(name, messages, body.Partition, cancellationToken).ConfigureAwait(false);
            return Results.Ok(new AppendResponse(position.Partition, position.BaseOffset, position.LastOffset));
        }
        catch (InvalidOperationException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Records refused", e.Message);
        }
    }

    private static async Task<IResult> ReadAsync(string name, int partition, long? offset, int? limit, int? waitMs, IEventLog log, LogBroker broker, CancellationToken cancellationToken)
    {
        if (!broker.Topics.TryGet(name, out var topic))
        {
            return NoTopic(name);
        }

        if (partition < 0 || partition >= topic.Partitions.Count)
        {
            return Problem(StatusCodes.Status404NotFound, "No such partition", $"topic '{name}' has partitions 0 to {topic.Partitions.Count - 1}");
        }

        var count = Math.Clamp(limit ?? DefaultRecordsPerRead, 1, MaxRecordsPerRequest);
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(waitMs ?? 0, 0, broker.Options.MaxFetchWaitMs));
        var from = offset ?? topic.Partitions[partition].Log.LogStartOffset;
        try
        {
            var entries = await log.ReadAsync(name, partition, from, count, wait, cancellationToken).ConfigureAwait(false);
            return Results.Ok(entries.Select(entry => new RecordView(
                entry.Offset,
                entry.Timestamp,
                Text(entry.Key),
                Text(entry.Value),
                entry.Value is { } value && Text(value) is null ? Convert.ToBase64String(value) : null,
                entry.Headers.ToDictionary(header => header.Key, header => Text(header.Value)))).ToList());
        }
        catch (ArgumentOutOfRangeException e)
        {
            return Problem(StatusCodes.Status416RangeNotSatisfiable, "Offset out of range", e.Message);
        }
    }

    private static long Lag(LogBroker broker, string topic, int partition, long committed) =>
        broker.Topics.TryGet(topic, out var found) && partition < found.Partitions.Count
            ? Math.Max(0, found.Partitions[partition].HighWatermark - committed)
            : 0;

    private static string? Text(byte[]? bytes)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}

/// <summary>The body of <c>POST /api/log/topics/{name}/records</c>.</summary>
internal sealed record AppendBody(List<RecordBody>? Records, int? Partition);

/// <summary>A record to append, as UTF-8 text.</summary>
internal sealed record RecordBody(string? Key, string? Value, Dictionary<string, string?>? Headers);

/// <summary>Where appended records landed.</summary>
internal sealed record AppendResponse(int Partition, long BaseOffset, long LastOffset);

/// <summary>A record read back: UTF-8 text, or base64 when the value is not text.</summary>
internal sealed record RecordView(long Offset, DateTimeOffset Timestamp, string? Key, string? Value, string? ValueBase64, Dictionary<string, string?> Headers);

/// <summary>A consumer group in the list.</summary>
internal sealed record GroupSummary(string GroupId, string ProtocolType, string State);

/// <summary>A consumer group's members and committed offsets with their lag.</summary>
internal sealed record GroupDetail(string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMember> Members, IReadOnlyList<CommittedOffset> Offsets);

/// <summary>A member of a group.</summary>
internal sealed record GroupMember(string MemberId, string ClientId, string ClientHost);

/// <summary>A committed offset and how far the partition's end is past it.</summary>
internal sealed record CommittedOffset(string Topic, int Partition, long Offset, long Lag);
