using Blueprint.Log.Broker;
using Blueprint.Log.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Blueprint.Log.Http;

/// <summary>The log for humans on the node's HTTP port: topics, partitions, records and groups as JSON (<c>/api/log/…</c>).</summary>
internal static partial class LogEndpoints
{
    /// <summary>The most records one request appends or one GET returns.</summary>
    public const int MaxRecordsPerRequest = 1000;

    /// <summary>The records a GET returns without a <c>limit</c>.</summary>
    public const int DefaultRecordsPerRead = 100;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/log");
        api.MapGet("/topics", (LogBroker broker) => Results.Ok(broker.Topics.All.Select(Summary).ToList()));
        api.MapGet("/topics/{name}", (string name, LogBroker broker) =>
            broker.Topics.TryGet(name, out var topic) ? Results.Ok(Detail(topic)) : NoTopic(name));
        api.MapPost("/topics", CreateTopicAsync);
        api.MapDelete("/topics/{name}", DeleteTopicAsync);
        MapRecords(api);
        MapGroups(api);
    }

    private static async Task<IResult> CreateTopicAsync(CreateTopicBody? body, LogBroker broker, CancellationToken cancellationToken)
    {
        if (body?.Name is not { } name)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid topic", "send {\"name\": \"orders\", \"partitions\": 3, \"configs\": {\"cleanup.policy\": \"compact\"}}");
        }

        var created = await broker.CreateTopicAsync(
            name, body.Partitions ?? broker.Options.DefaultPartitions, (short)(body.ReplicationFactor ?? -1), body.Configs ?? new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        return created.Error switch
        {
            ErrorCode.None => Results.Created($"/api/log/topics/{name}", Detail(created.Topic!)),
            ErrorCode.TopicAlreadyExists => Problem(StatusCodes.Status409Conflict, "Topic exists", created.Message!),
            _ => Problem(StatusCodes.Status400BadRequest, "Invalid topic", created.Message!),
        };
    }

    private static async Task<IResult> DeleteTopicAsync(string name, LogBroker broker, CancellationToken cancellationToken)
    {
        return await broker.DeleteTopicAsync(name, cancellationToken).ConfigureAwait(false) ? Results.NoContent() : NoTopic(name);
    }

    private static TopicSummary Summary(Topic topic) => new(
        topic.Name,
        topic.Id,
        topic.Partitions.Count,
        topic.Partitions.Sum(partition => partition.HighWatermark - partition.Log.LogStartOffset),
        topic.Partitions.Sum(partition => partition.Log.SizeBytes));

    private static TopicDetail Detail(Topic topic) => new(
        topic.Name,
        topic.Id,
        TopicConfig.Effective(topic.Storage, topic.Configs),
        [.. topic.Partitions.Select(partition => new PartitionDetail(
            partition.Index, partition.Log.LogStartOffset, partition.HighWatermark, partition.Log.LogEndOffset, partition.Log.SizeBytes))]);

    private static IResult NoTopic(string name) => Problem(StatusCodes.Status404NotFound, "No such topic", $"there is no topic '{name}'");

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);
}

/// <summary>The body of <c>POST /api/log/topics</c>.</summary>
internal sealed record CreateTopicBody(string? Name, int? Partitions, int? ReplicationFactor, Dictionary<string, string>? Configs);

/// <summary>A topic in the list.</summary>
internal sealed record TopicSummary(string Name, Guid Id, int Partitions, long Records, long SizeBytes);

/// <summary>A topic with its configs and partitions.</summary>
internal sealed record TopicDetail(string Name, Guid Id, IReadOnlyDictionary<string, string> Configs, IReadOnlyList<PartitionDetail> Partitions);

/// <summary>A partition's offsets and size.</summary>
internal sealed record PartitionDetail(int Partition, long LogStartOffset, long HighWatermark, long LogEndOffset, long SizeBytes);
