using Blueprint.Log.Broker;
using Blueprint.Log.Kafka;
using Blueprint.Log.Kafka.Protocol;
using Blueprint.Log.Storage;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Cluster;

/// <summary>
/// A follower's copy loop for one partition, as Kafka's replica fetcher: it first cuts any tail that diverges from the
/// leader (OffsetForLeaderEpoch on its latest epoch, KIP-101/279), then fetches from its log end with its broker id as
/// replica id, appends what comes back unchanged (offsets, epochs, producer ids) and takes the leader's high watermark.
/// Each fetch tells the leader how far this follower has got, which is how the leader moves the high watermark and
/// keeps this follower in the ISR. One fetcher lives for one leader epoch; a leader change replaces it.
/// </summary>
internal sealed partial class ReplicaFetcher : IAsyncDisposable
{
    private const int FetchVersion = 11;
    private const int OffsetForLeaderEpochVersion = 3;
    private static readonly TimeSpan FetchWait = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(100);

    private readonly Partition partition;
    private readonly int self;
    private readonly string host;
    private readonly int port;
    private readonly LogOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private Task run = Task.CompletedTask;

    private ReplicaFetcher(Partition partition, int self, int leader, int leaderEpoch, string host, int port, LogOptions options, TimeProvider time, ILogger logger)
    {
        this.partition = partition;
        this.self = self;
        Leader = leader;
        LeaderEpoch = leaderEpoch;
        this.host = host;
        this.port = port;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>The most bytes one replica fetch asks for: half the largest frame, so the answer with its framing fits one.</summary>
    private int FetchBytesMax => options.MaxRequestBytes / 2;

    /// <summary>The leader fetched from.</summary>
    public int Leader { get; }

    /// <summary>The leader epoch this fetcher follows.</summary>
    public int LeaderEpoch { get; }

    /// <summary>Starts fetching <paramref name="partition"/> from broker <paramref name="leader"/> at <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static ReplicaFetcher Start(Partition partition, int self, int leader, int leaderEpoch, string host, int port, LogOptions options, TimeProvider time, ILogger logger)
    {
        var fetcher = new ReplicaFetcher(partition, self, leader, leaderEpoch, host, port, options, time, logger);
        fetcher.run = Task.Run(() => fetcher.RunAsync(fetcher.stopping.Token));
        return fetcher;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync().ConfigureAwait(false);
        }

        await run.ConfigureAwait(false);
        stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var name = partition.Topic.Name;
        var index = partition.Index;
        KafkaPeerClient? client = null;
        var reconciled = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    client ??= await KafkaPeerClient.ConnectAsync(host, port, options.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
                    if (!reconciled)
                    {
                        await TruncateDivergentTailAsync(client, cancellationToken).ConfigureAwait(false);
                        reconciled = true;
                    }

                    var request = new FetchRequest
                    {
                        ReplicaId = self,
                        MaxWaitMs = (int)FetchWait.TotalMilliseconds,
                        MinBytes = 1,
                        MaxBytes = FetchBytesMax,
                        Topics =
                        [
                            new FetchRequest.FetchTopic
                            {
                                Topic = name,
                                Partitions = [new FetchRequest.FetchPartition { Partition = index, CurrentLeaderEpoch = LeaderEpoch, FetchOffset = partition.Log.LogEndOffset, PartitionMaxBytes = FetchBytesMax }],
                            },
                        ],
                    };
                    var response = await client.SendAsync<FetchResponse>(ApiKey.Fetch, FetchVersion, request, FetchWait + RequestTimeout, cancellationToken).ConfigureAwait(false);
                    var data = response.Responses.SelectMany(topic => topic.Partitions).FirstOrDefault(answer => answer.PartitionIndex == index)
                        ?? throw new IOException($"the fetch response of broker {Leader} has no {name}-{index}");
                    switch (data.ErrorCode)
                    {
                        case ErrorCode.None:
                            if (data.Records is { Length: > 0 } records)
                            {
                                await partition.Log.AppendReplicatedAsync(records, cancellationToken).ConfigureAwait(false);
                            }

                            partition.FollowHighWatermark(data.HighWatermark);
                            break;
                        case ErrorCode.OffsetOutOfRange when partition.Log.LogEndOffset < data.LogStartOffset:
                            // The leader's retention passed our end: what we miss is gone; start over at its start.
                            LogRestarting(logger, name, index, partition.Log.LogEndOffset, data.LogStartOffset);
                            await partition.Log.TruncateFullyAndStartAtAsync(data.LogStartOffset, cancellationToken).ConfigureAwait(false);
                            partition.ClampHighWatermark();
                            break;
                        case ErrorCode.OffsetOutOfRange:
                            // Our end is past the leader's (a tail it never had): reconcile again.
                            reconciled = false;
                            await Task.Delay(Backoff, time, cancellationToken).ConfigureAwait(false);
                            break;
                        default:
                            // Not (yet) the leader in our epoch, or the topic is not there yet: the metadata will catch up.
                            LogFetchRefused(logger, name, index, Leader, data.ErrorCode);
                            await Task.Delay(Backoff, time, cancellationToken).ConfigureAwait(false);
                            break;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    LogFetchFailed(logger, name, index, Leader, host, port, e.Message);
                    if (client is not null)
                    {
                        await client.DisposeAsync().ConfigureAwait(false);
                        client = null;
                    }

                    try
                    {
                        await Task.Delay(Backoff * 2, time, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// KIP-279: ask the leader where our latest epoch ends on its log, look up where that epoch ends on ours, and cut our
    /// log at the smaller of the two. Whatever lies beyond was never committed (the leader of a later epoch does not have
    /// it), so the cut loses nothing acknowledged; without it the follower would keep records at offsets the new leader
    /// gave to others.
    /// </summary>
    private async Task TruncateDivergentTailAsync(KafkaPeerClient client, CancellationToken cancellationToken)
    {
        var log = partition.Log;
        var latest = log.LatestEpoch;
        if (latest < 0 || log.LogEndOffset == log.LogStartOffset)
        {
            return;
        }

        var request = new OffsetForLeaderEpochRequest
        {
            ReplicaId = self,
            Topics =
            [
                new OffsetForLeaderEpochRequest.OffsetForLeaderTopic
                {
                    Topic = partition.Topic.Name,
                    Partitions = [new OffsetForLeaderEpochRequest.OffsetForLeaderPartition { Partition = partition.Index, CurrentLeaderEpoch = LeaderEpoch, LeaderEpoch = latest }],
                },
            ],
        };
        var response = await client.SendAsync<OffsetForLeaderEpochResponse>(ApiKey.OffsetForLeaderEpoch, OffsetForLeaderEpochVersion, request, RequestTimeout, cancellationToken).ConfigureAwait(false);
        var answer = response.Topics.SelectMany(topic => topic.Partitions).FirstOrDefault(found => found.Partition == partition.Index)
            ?? throw new IOException($"the OffsetForLeaderEpoch response of broker {Leader} has no {partition.Topic.Name}-{partition.Index}");
        if (answer.ErrorCode != ErrorCode.None)
        {
            throw new IOException($"broker {Leader} answered OffsetForLeaderEpoch with {answer.ErrorCode}");
        }

        // The leader knows no epoch as old as ours: nothing of ours can be trusted past the start.
        var target = answer.LeaderEpoch < 0 || answer.EndOffset < 0
            ? log.LogStartOffset
            : Math.Min(answer.EndOffset, log.EndOffsetForEpoch(answer.LeaderEpoch).EndOffset);
        if (target >= 0 && target < log.LogEndOffset)
        {
            LogTruncating(logger, partition.Topic.Name, partition.Index, log.LogEndOffset, target, Leader, LeaderEpoch);
            await log.TruncateAsync(Math.Max(target, log.LogStartOffset), cancellationToken).ConfigureAwait(false);
            partition.ClampHighWatermark();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Topic}-{Partition}: leader {Leader} refused the fetch: {Error}")]
    private static partial void LogFetchRefused(ILogger logger, string topic, int partition, int leader, ErrorCode error);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Topic}-{Partition}: fetch from leader {Leader} at {Host}:{Port} failed: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, string topic, int partition, int leader, string host, int port, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Topic}-{Partition}: our end {End} is before the leader's log start {Start}; starting over there")]
    private static partial void LogRestarting(ILogger logger, string topic, int partition, long end, long start);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Topic}-{Partition}: truncating the divergent tail from {End} to {Target} to follow leader {Leader} in epoch {Epoch}")]
    private static partial void LogTruncating(ILogger logger, string topic, int partition, long end, long target, int leader, int epoch);
}
