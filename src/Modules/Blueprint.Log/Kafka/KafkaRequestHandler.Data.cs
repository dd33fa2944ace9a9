using System.Buffers;
using Blueprint.Log.Broker;
using Blueprint.Log.Kafka.Protocol;
using Blueprint.Log.Storage;

namespace Blueprint.Log.Kafka;

/// <summary>Produce, Fetch and ListOffsets: the data path.</summary>
public sealed partial class KafkaRequestHandler
{
    private const long LatestTimestamp = -1;
    private const long EarliestTimestamp = -2;

    /// <summary>The longest an acks=all produce waits for the ISR, whatever the client's timeout says.</summary>
    private const int ProduceTimeoutMaxMs = 300_000;

    private async ValueTask<ProduceResponse> ProduceAsync(ProduceRequest request, CancellationToken cancellationToken)
    {
        var response = new ProduceResponse();
        var appends = new List<(ProduceResponse.PartitionProduceResponse Answer, Partition Partition, Task<AppendResult> Append)>();
        var refusal = request.Acks is 0 or 1 or -1
            ? request.TransactionalId is null ? ErrorCode.None : ErrorCode.InvalidRequest
            : ErrorCode.InvalidRequiredAcks;
        foreach (var topicData in request.Topics)
        {
            var topicAnswer = new ProduceResponse.TopicProduceResponse { Name = topicData.Name };
            response.Responses.Add(topicAnswer);
            broker.Topics.TryGet(topicData.Name, out var topic);
            foreach (var partitionData in topicData.Partitions)
            {
                var answer = new ProduceResponse.PartitionProduceResponse { PartitionIndex = partitionData.PartitionIndex, BaseOffset = -1, LogAppendTimeMs = -1, LogStartOffset = -1 };
                topicAnswer.Partitions.Add(answer);
                if (refusal != ErrorCode.None)
                {
                    answer.ErrorCode = refusal;
                }
                else if (topic is null || partitionData.PartitionIndex < 0 || partitionData.PartitionIndex >= topic.Partitions.Count)
                {
                    answer.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                }
                else if (!topic.Partitions[partitionData.PartitionIndex].IsLeader)
                {
                    answer.ErrorCode = ErrorCode.NotLeaderOrFollower;
                }
                else if (request.Acks == -1 && topic.Partitions[partitionData.PartitionIndex].Role.Isr.Length is var inSync && inSync < topic.MinInSyncReplicas)
                {
                    // As Kafka: acks=all is refused before the append when the ISR is smaller than min.insync.replicas.
                    answer.ErrorCode = ErrorCode.NotEnoughReplicas;
                    answer.ErrorMessage = $"{inSync} in-sync replicas, min.insync.replicas is {topic.MinInSyncReplicas}";
                }
                else if (partitionData.Records is not { Length: > 0 } records)
                {
                    answer.ErrorCode = ErrorCode.CorruptMessage;
                    answer.ErrorMessage = "the partition's record set is empty";
                }
                else
                {
                    var partition = topic.Partitions[partitionData.PartitionIndex];
                    appends.Add((answer, partition, partition.AppendAsync(records, cancellationToken).AsTask()));
                }
            }
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(Math.Clamp(request.TimeoutMs, 0, ProduceTimeoutMaxMs)));
        foreach (var (answer, partition, append) in appends)
        {
            try
            {
                var result = await append.ConfigureAwait(false);
                if (request.Acks == -1 && !result.Duplicate)
                {
                    // acks=all: answered once every in-sync replica holds the records (the high watermark passed them).
                    if (!await partition.WaitCommittedAsync(result.LastOffset, deadline.Token).ConfigureAwait(false))
                    {
                        answer.ErrorCode = ErrorCode.NotLeaderOrFollower;
                        answer.ErrorMessage = "this broker stopped leading the partition before the ISR had the records";
                        continue;
                    }
                }

                answer.BaseOffset = result.BaseOffset;
                answer.LogStartOffset = partition.Log.LogStartOffset;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                answer.ErrorCode = ErrorCode.RequestTimedOut;
                answer.ErrorMessage = $"the in-sync replicas did not all acknowledge within {request.TimeoutMs} ms";
            }
            catch (RecordRejectedException e)
            {
                answer.ErrorCode = e.Code;
                answer.ErrorMessage = e.Message;
            }
            catch (ObjectDisposedException)
            {
                answer.ErrorCode = ErrorCode.UnknownTopicOrPartition;
            }
            catch (IOException e)
            {
                answer.ErrorCode = ErrorCode.KafkaStorageError;
                answer.ErrorMessage = e.Message;
            }
        }

        return response;
    }

    private async ValueTask<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken)
    {
        var fetched = new ArrayBufferWriter<byte>(16 * 1024);
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.MaxWaitMs, 0, broker.Options.MaxFetchWaitMs));
        var deadline = time.GetUtcNow() + wait;
        var responseLimit = request.MaxBytes <= 0 ? int.MaxValue : request.MaxBytes;
        var follower = request.ReplicaId >= 0 ? request.ReplicaId : -1;
        var firstPass = true;
        while (true)
        {
            fetched.ResetWrittenCount();
            var signals = new List<Task>();
            var response = new FetchResponse { SessionId = 0 };
            var ranges = new List<(FetchResponse.PartitionData Answer, int Start, int Length)>();
            var total = 0;
            var errors = false;
            foreach (var fetchTopic in request.Topics)
            {
                var topicAnswer = new FetchResponse.FetchableTopicResponse { Topic = fetchTopic.Topic };
                response.Responses.Add(topicAnswer);
                broker.Topics.TryGet(fetchTopic.Topic, out var topic);
                foreach (var wanted in fetchTopic.Partitions)
                {
                    var answer = new FetchResponse.PartitionData { PartitionIndex = wanted.Partition, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1, PreferredReadReplica = -1 };
                    topicAnswer.Partitions.Add(answer);
                    if (topic is null || wanted.Partition < 0 || wanted.Partition >= topic.Partitions.Count)
                    {
                        answer.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                        errors = true;
                        continue;
                    }

                    var partition = topic.Partitions[wanted.Partition];
                    var role = partition.Role;
                    if (role.Leader != partition.Self)
                    {
                        answer.ErrorCode = ErrorCode.NotLeaderOrFollower;
                        errors = true;
                        continue;
                    }

                    if (wanted.CurrentLeaderEpoch >= 0 && wanted.CurrentLeaderEpoch != role.LeaderEpoch)
                    {
                        answer.ErrorCode = wanted.CurrentLeaderEpoch < role.LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch;
                        errors = true;
                        continue;
                    }

                    signals.Add(partition.Appended);
                    if (follower >= 0 && firstPass && partition.RecordFollowerFetch(follower, wanted.FetchOffset, time.GetUtcNow()))
                    {
                        broker.Cluster?.RequestIsrJoin(partition, follower);
                    }

                    // Consumers read below the high watermark; a follower reads everything its leader has.
                    var highWatermark = partition.HighWatermark;
                    var readEnd = follower >= 0 ? partition.Log.LogEndOffset : highWatermark;
                    var start = partition.Log.LogStartOffset;
                    answer.HighWatermark = highWatermark;
                    answer.LastStableOffset = highWatermark;
                    answer.LogStartOffset = start;
                    if (wanted.FetchOffset < start || wanted.FetchOffset > partition.Log.LogEndOffset)
                    {
                        answer.ErrorCode = ErrorCode.OffsetOutOfRange;
                        errors = true;
                        continue;
                    }

                    // The first partition with data gets a whole batch even past the limits (KIP-74), so a large record never stalls a consumer.
                    var room = Math.Min(wanted.PartitionMaxBytes, responseLimit - total);
                    if (room <= 0 && total > 0)
                    {
                        continue;
                    }

                    try
                    {
                        var before = fetched.WrittenCount;
                        var written = wanted.FetchOffset >= readEnd ? 0 : partition.Log.Read(wanted.FetchOffset, Math.Max(room, 1), readEnd, fetched);
                        ranges.Add((answer, before, written));
                        total += written;
                    }
                    catch (OffsetOutOfRangeException)
                    {
                        answer.ErrorCode = ErrorCode.OffsetOutOfRange;
                        errors = true;
                    }
                    catch (ObjectDisposedException)
                    {
                        answer.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                        errors = true;
                    }
                }
            }

            firstPass = false;
            var remaining = deadline - time.GetUtcNow();
            if (total >= request.MinBytes || errors || remaining <= TimeSpan.Zero || signals.Count == 0)
            {
                var memory = fetched.WrittenMemory;
                foreach (var (answer, start, length) in ranges)
                {
                    answer.Records = memory.Slice(start, length);
                }

                return response;
            }

            var timeout = Task.Delay(remaining, time, cancellationToken);
            signals.Add(timeout);
            await Task.WhenAny(signals).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private ListOffsetsResponse ListOffsets(ListOffsetsRequest request)
    {
        var response = new ListOffsetsResponse();
        foreach (var listTopic in request.Topics)
        {
            var topicAnswer = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = listTopic.Name };
            response.Topics.Add(topicAnswer);
            broker.Topics.TryGet(listTopic.Name, out var topic);
            foreach (var wanted in listTopic.Partitions)
            {
                var answer = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = wanted.PartitionIndex, Timestamp = -1, Offset = -1, LeaderEpoch = -1 };
                topicAnswer.Partitions.Add(answer);
                if (topic is null || wanted.PartitionIndex < 0 || wanted.PartitionIndex >= topic.Partitions.Count)
                {
                    answer.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                    answer.LeaderEpoch = -1;
                    continue;
                }

                var partition = topic.Partitions[wanted.PartitionIndex];
                if (!partition.IsLeader)
                {
                    answer.ErrorCode = ErrorCode.NotLeaderOrFollower;
                    continue;
                }

                switch (wanted.Timestamp)
                {
                    case LatestTimestamp:
                        answer.Offset = partition.HighWatermark;
                        break;
                    case EarliestTimestamp:
                        answer.Offset = partition.Log.LogStartOffset;
                        break;
                    case < 0:
                        answer.ErrorCode = ErrorCode.InvalidRequest;
                        break;
                    default:
                        if (partition.Log.OffsetForTimestamp(wanted.Timestamp) is { } found && found.Offset < partition.HighWatermark)
                        {
                            answer.Offset = found.Offset;
                            answer.Timestamp = found.Timestamp;
                        }

                        break;
                }
            }
        }

        return response;
    }

    private OffsetForLeaderEpochResponse OffsetForLeaderEpoch(OffsetForLeaderEpochRequest request)
    {
        var response = new OffsetForLeaderEpochResponse();
        foreach (var wantedTopic in request.Topics)
        {
            var topicAnswer = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = wantedTopic.Topic };
            response.Topics.Add(topicAnswer);
            broker.Topics.TryGet(wantedTopic.Topic, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                var answer = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = wanted.Partition, LeaderEpoch = -1, EndOffset = -1 };
                topicAnswer.Partitions.Add(answer);
                if (topic is null || wanted.Partition < 0 || wanted.Partition >= topic.Partitions.Count)
                {
                    answer.ErrorCode = ErrorCode.UnknownTopicOrPartition;
                    continue;
                }

                var partition = topic.Partitions[wanted.Partition];
                var role = partition.Role;
                if (role.Leader != partition.Self)
                {
                    answer.ErrorCode = ErrorCode.NotLeaderOrFollower;
                }
                else if (wanted.CurrentLeaderEpoch >= 0 && wanted.CurrentLeaderEpoch != role.LeaderEpoch)
                {
                    answer.ErrorCode = wanted.CurrentLeaderEpoch < role.LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch;
                }
                else
                {
                    (answer.LeaderEpoch, answer.EndOffset) = partition.Log.EndOffsetForEpoch(wanted.LeaderEpoch);
                }
            }
        }

        return response;
    }
}
