using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Blueprint.Core.Hashing;
using Blueprint.Log;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Limits;
using Blueprint.Notify.Product;
using Blueprint.Notify.Sns;
using Blueprint.Notify.State;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace Blueprint.Notify.Pipeline;

/// <summary>
/// The delivery pipeline, every stage a consumer of a log topic that commits its offset only after its work is durable:
/// <list type="number">
/// <item>fan-out reads <c>notify.accepted</c> and writes one delivery per matching confirmed subscription to <c>notify.deliveries</c>;</item>
/// <item>delivery reads those and makes the first attempt;</item>
/// <item>a failed attempt k goes to <c>notify.retry.k</c>, whose records all wait the k-th delay of the schedule (less jitter),
/// so each retry topic is due in order and its consumer just waits for the head (Uber's retry-topic design);</item>
/// <item>after the last retry, or when retrying cannot help, the delivery goes to the dead letters with its reason;</item>
/// <item>a delivery over a rate limit is not attempted: it waits on the first retry topic whose delay covers the limiter's wait,
/// with the same attempt number, and is recorded as <c>RateLimited</c>.</item>
/// </list>
/// A crash before a commit repeats the uncommitted work: delivery is at least once, with the message id stable so receivers de-duplicate.
/// </summary>
public sealed partial class NotifyPipeline(
    IEventLog log,
    NotifyState state,
    DeliveryLedger ledger,
    IEnumerable<IDeliveryChannel> channels,
    NotifyRateLimiter limiter,
    SnsUrls urls,
    TimeProvider time,
    ILogger<NotifyPipeline> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>The outcome recorded for a delivery deferred by a rate limit.</summary>
    public const string RateLimitedOutcome = "RateLimited";

    private const string FanoutGroup = "notify-fanout";

    /// <summary>Records started but not yet recorded per delivery slot: the window a slow attempt may hold open.</summary>
    private const int WindowPerSlot = 4;

    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, IDeliveryChannel> _channels = channels.SelectMany(channel => channel.Protocols.Select(protocol => (protocol, channel)))
        .ToDictionary(pair => pair.protocol, pair => pair.channel, StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _failingSince = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];
    private readonly ResiliencePipelineRegistry<string> _breakers = new();
    private CancellationTokenSource? _stopping;
    private IReadOnlyList<TimeSpan> _schedule = [];

    /// <summary>Whether the pipeline has loaded its state and runs.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>The protocols some channel serves.</summary>
    public IReadOnlyCollection<string> Protocols => _channels.Keys;

    /// <summary>The channel of a protocol, or null.</summary>
    public IDeliveryChannel? ChannelOf(string protocol) => _channels.GetValueOrDefault(protocol);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _schedule = state.Options.RetrySchedule;
        await state.LoadAsync(cancellationToken).ConfigureAwait(false);
        var partitions = state.Options.Partitions;
        await log.EnsureTopicAsync(PipelineTopics.Accepted, partitions, cancellationToken: cancellationToken).ConfigureAwait(false);
        await log.EnsureTopicAsync(PipelineTopics.Deliveries, partitions, cancellationToken: cancellationToken).ConfigureAwait(false);
        for (var level = 1; level <= _schedule.Count; level++)
        {
            await log.EnsureTopicAsync(PipelineTopics.Retry(level), partitions, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        await log.EnsureTopicAsync(PipelineTopics.DeadLetters, 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, cancellationToken).ConfigureAwait(false);
        await log.EnsureTopicAsync(PipelineTopics.Attempts, 1, cancellationToken: cancellationToken).ConfigureAwait(false);
        await log.EnsureTopicAsync(PipelineTopics.Inbox, partitions, cancellationToken: cancellationToken).ConfigureAwait(false);
        await ledger.LoadAsync(cancellationToken).ConfigureAwait(false);

        _stopping = new CancellationTokenSource();
        var token = _stopping.Token;
        for (var partition = 0; partition < log.PartitionCount(PipelineTopics.Accepted); partition++)
        {
            var p = partition;
            _loops.Add(Task.Run(() => RunAsync(() => FanOutAsync(p, token), PipelineTopics.Accepted, token), CancellationToken.None));
        }

        for (var level = 0; level <= _schedule.Count; level++)
        {
            var topic = level == 0 ? PipelineTopics.Deliveries : PipelineTopics.Retry(level);
            for (var partition = 0; partition < log.PartitionCount(topic); partition++)
            {
                var p = partition;
                _loops.Add(Task.Run(() => RunAsync(() => DeliverAsync(topic, p, token), topic, token), CancellationToken.None));
            }
        }

        IsRunning = true;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IsRunning = false;
        if (_stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _stopping?.Dispose();
        await _breakers.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Queues a subscription's confirmation request (for protocols that confirm): it is delivered, and retried, as any
    /// delivery, with <c>Type</c> <c>SubscriptionConfirmation</c>, the token and the URL that confirms.
    /// </summary>
    public async Task SendConfirmationAsync(SubscriptionRecord subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var message = new AcceptedMessage(
            Guid.NewGuid().ToString("D"),
            subscription.TopicArn,
            "AWS Notification - Subscription Confirmation",
            $"You have chosen to subscribe to the topic {subscription.TopicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            null,
            [],
            time.GetUtcNow());
        var delivery = new DeliveryRecord($"{message.MessageId}/{subscription.Id}", subscription.Id, message, 1, time.GetUtcNow(), Notification.ConfirmationType);
        await AppendDeliveriesAsync(PipelineTopics.Deliveries, [delivery], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Re-drives dead letters (all when <paramref name="deliveryIds"/> is null): each is delivered again from its first attempt.</summary>
    public async Task<int> RedriveAsync(IReadOnlyList<string>? deliveryIds, CancellationToken cancellationToken)
    {
        var letters = deliveryIds is null
            ? ledger.DeadLetters
            : [.. deliveryIds.Select(ledger.FindDeadLetter).OfType<DeadLetter>()];
        if (letters.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        await AppendDeliveriesAsync(
            PipelineTopics.Deliveries,
            [.. letters.Select(letter => letter.Delivery with { Attempt = 1, DueAt = now, LastReason = null })],
            cancellationToken).ConfigureAwait(false);
        await ledger.RemoveDeadLettersAsync([.. letters.Select(letter => letter.Delivery.DeliveryId)], cancellationToken).ConfigureAwait(false);
        foreach (var letter in letters)
        {
            _failingSince.TryRemove(letter.Delivery.SubscriptionId, out _);
        }

        return letters.Count;
    }

    private async Task RunAsync(Func<Task> stage, string topic, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await stage().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException or JsonException)
            {
                // The stage resumes from its committed offset: the work since is repeated, never skipped.
                LogStageFailed(topic, e);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private long StartOffset(string group, string topic, int partition) =>
        log.Committed(group, topic, partition) ?? log.Offsets(topic, partition).Start;

    private async Task FanOutAsync(int partition, CancellationToken cancellationToken)
    {
        var offset = StartOffset(FanoutGroup, PipelineTopics.Accepted, partition);
        while (!cancellationToken.IsCancellationRequested)
        {
            var entries = await log.ReadAsync(PipelineTopics.Accepted, partition, offset, 256, PollWait, cancellationToken).ConfigureAwait(false);
            if (entries.Count == 0)
            {
                continue;
            }

            var deliveries = new List<DeliveryRecord>();
            foreach (var entry in entries)
            {
                var message = JsonSerializer.Deserialize<AcceptedMessage>(entry.Value, PipelineJson.Options)!;
                foreach (var subscription in state.SubscriptionsOf(message.TopicArn))
                {
                    if (subscription.Confirmed && Matches(subscription, message))
                    {
                        deliveries.Add(new DeliveryRecord($"{message.MessageId}/{subscription.Id}", subscription.Id, message, 1, message.Timestamp));
                    }
                }
            }

            await AppendDeliveriesAsync(PipelineTopics.Deliveries, deliveries, cancellationToken).ConfigureAwait(false);
            offset = entries[^1].Offset + 1;
            await log.CommitAsync(FanoutGroup, PipelineTopics.Accepted, partition, offset, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool Matches(SubscriptionRecord subscription, AcceptedMessage message)
    {
        if (!subscription.Attributes.TryGetValue("FilterPolicy", out var json) || string.IsNullOrWhiteSpace(json) || FilterPolicy.Parse(json, out _) is not { } policy)
        {
            return true;
        }

        return subscription.Attributes.GetValueOrDefault("FilterPolicyScope") == "MessageBody"
            ? policy.MatchesBody(message.BodyFor(subscription.Protocol))
            : policy.MatchesAttributes(message.Attributes);
    }

    /// <summary>
    /// One partition of a delivery topic as a sliding window: a reader starts each record's attempt as soon as it is
    /// due and one of <see cref="NotifyOptions.Concurrency"/> slots is free, while a recorder takes the outcomes in
    /// offset order and group-commits them — retries and dead letters appended, attempts recorded, then the offset of the
    /// last one committed. A slow attempt holds back the commit (never the other attempts) until the window of started
    /// but unrecorded records is full; a crash repeats only what was not committed.
    /// </summary>
    private async Task DeliverAsync(string topic, int partition, CancellationToken cancellationToken)
    {
        var concurrency = state.Options.Concurrency;
        var window = Channel.CreateBounded<(long Offset, Task<Outcome> Outcome)>(
            new BoundedChannelOptions(concurrency * WindowPerSlot) { SingleReader = true, SingleWriter = true });
        using var stage = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Not disposed: attempts still running when the stage stops release their slot after it ends (SemaphoreSlim
        // holds nothing to dispose unless its wait handle is asked for).
        var slots = new SemaphoreSlim(concurrency, concurrency);
        var group = "notify-" + topic;
        var reading = StartAttemptsAsync(topic, partition, StartOffset(group, topic, partition), slots, window.Writer, stage.Token);
        var recording = RecordOutcomesAsync(group, topic, partition, window.Reader, concurrency * WindowPerSlot, stage.Token);
        var first = await Task.WhenAny(reading, recording).ConfigureAwait(false);

        // Either ends only by a failure or the stop: the other is stopped too, and the stage resumes from the commit.
        await stage.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(reading, recording).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stage.IsCancellationRequested)
        {
        }
        finally
        {
            // Attempts started but not recorded were cancelled with the stage: wait for them to end, so none outlives
            // the stop (or overlaps the restarted stage's attempts of the same records). Their outcomes are not
            // committed: the records are attempted again.
            window.Writer.TryComplete();
            var started = new List<Task>();
            while (window.Reader.TryRead(out var item))
            {
                started.Add(item.Outcome);
            }

            await Task.WhenAll(started).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await first.ConfigureAwait(false);
    }

    private async Task StartAttemptsAsync(
        string topic, int partition, long offset, SemaphoreSlim slots, ChannelWriter<(long, Task<Outcome>)> window, CancellationToken cancellationToken)
    {
        var batch = state.Options.Concurrency;
        while (true)
        {
            var entries = await log.ReadAsync(topic, partition, offset, batch, PollWait, cancellationToken).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                var record = JsonSerializer.Deserialize<DeliveryRecord>(entry.Value, PipelineJson.Options)!;

                // Records of one retry topic are due in order (up to jitter): each waits for its time.
                var wait = record.DueAt - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }

                // Room in the window first, then a slot: an attempt starts only once its place in the window is sure
                // (one writer, so the room cannot be taken in between).
                if (!await window.WaitToWriteAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                _ = window.TryWrite((entry.Offset, AttemptInSlotAsync(record, slots, cancellationToken)));
                offset = entry.Offset + 1;
            }
        }
    }

    private async Task<Outcome> AttemptInSlotAsync(DeliveryRecord record, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            return await AttemptAsync(record, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _ = slots.Release();
        }
    }

    private async Task RecordOutcomesAsync(
        string group, string topic, int partition, ChannelReader<(long Offset, Task<Outcome> Outcome)> window, int maxBatch, CancellationToken cancellationToken)
    {
        var outcomes = new List<Outcome>(maxBatch);
        while (true)
        {
            // The oldest started record is waited for (left in the window until done, so a stop finds it there);
            // those after it join the batch only if already done.
            if (!await window.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !window.TryPeek(out var head))
            {
                return;
            }

            _ = await head.Outcome.WaitAsync(cancellationToken).ConfigureAwait(false);
            outcomes.Clear();
            var offset = head.Offset;
            while (outcomes.Count < maxBatch && window.TryPeek(out var next) && next.Outcome.IsCompleted && window.TryRead(out next))
            {
                offset = next.Offset;
                outcomes.Add(await next.Outcome.ConfigureAwait(false));
            }

            foreach (var level in outcomes.Where(outcome => outcome.Retry is not null).GroupBy(outcome => outcome.RetryLevel))
            {
                await AppendDeliveriesAsync(PipelineTopics.Retry(level.Key), [.. level.Select(outcome => outcome.Retry!)], cancellationToken).ConfigureAwait(false);
            }

            await ledger.AddDeadLettersAsync([.. outcomes.Select(outcome => outcome.Dead).OfType<DeadLetter>()], cancellationToken).ConfigureAwait(false);
            await ledger.RecordAsync([.. outcomes.SelectMany(outcome => outcome.Attempts)], cancellationToken).ConfigureAwait(false);
            await log.CommitAsync(group, topic, partition, offset + 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AppendDeliveriesAsync(string topic, IReadOnlyList<DeliveryRecord> deliveries, CancellationToken cancellationToken)
    {
        if (deliveries.Count == 0)
        {
            return;
        }

        var partitions = log.PartitionCount(topic);
        foreach (var group in deliveries.GroupBy(delivery => Murmur2.Partition(Encoding.UTF8.GetBytes(delivery.SubscriptionId), partitions)))
        {
            await log.AppendAsync(
                topic,
                [.. group.Select(delivery => new LogMessage(Encoding.UTF8.GetBytes(delivery.SubscriptionId), JsonSerializer.SerializeToUtf8Bytes(delivery, PipelineJson.Options)))],
                group.Key,
                cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record Outcome(IReadOnlyList<AttemptRecord> Attempts, DeliveryRecord? Retry = null, DeadLetter? Dead = null, int RetryLevel = 0);

    private async Task<Outcome> AttemptAsync(DeliveryRecord delivery, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var message = delivery.Message;
        if (state.SubscriptionById(delivery.SubscriptionId) is not { } subscription)
        {
            return new Outcome([new AttemptRecord(message.MessageId, delivery.SubscriptionId, "", delivery.Attempt, "Dropped", "the subscription was deleted", now)]);
        }

        if (subscription.DisabledReason is { } disabled)
        {
            return DeadLettered(delivery, subscription, $"the subscription is disabled: {disabled}", now, []);
        }

        if (ChannelOf(subscription.Protocol) is not { } channel)
        {
            return DeadLettered(delivery, subscription, $"no channel delivers protocol {subscription.Protocol}", now, []);
        }

        var isConfirmation = delivery.Type == Notification.ConfirmationType;
        if (isConfirmation && subscription.Confirmed)
        {
            return new Outcome([new AttemptRecord(message.MessageId, subscription.Arn, subscription.Protocol, delivery.Attempt, "Dropped", "already confirmed", now)]);
        }

        if (limiter.LimitsDeliveries)
        {
            var verdict = await limiter.CheckDeliveryAsync(UserOf(subscription), NotifyLimit.ChannelOf(subscription.Protocol), _schedule[^1], cancellationToken).ConfigureAwait(false);
            if (!verdict.Allowed)
            {
                return Deferred(delivery, subscription, verdict);
            }
        }

        var notification = new Notification(
            message.MessageId,
            message.TopicArn,
            message.Subject,
            message.BodyFor(subscription.Protocol),
            message.Attributes,
            message.Timestamp,
            delivery.Type,
            isConfirmation ? subscription.Token : null,
            isConfirmation ? urls.Confirm(subscription) : null);
        var target = new SubscriptionTarget(subscription.Arn, subscription.TopicArn, subscription.Protocol, subscription.Endpoint, subscription.RawMessageDelivery, subscription.SigningSecret);
        var request = new DeliveryRequest(notification, target, delivery.Attempt);

        var result = await AttemptThroughBreakerAsync(channel, request, cancellationToken).ConfigureAwait(false);
        now = time.GetUtcNow();
        var attempt = new AttemptRecord(message.MessageId, subscription.Arn, subscription.Protocol, delivery.Attempt, result.Outcome.ToString(), result.Detail, now);
        switch (result.Outcome)
        {
            case DeliveryOutcome.Delivered:
                _failingSince.TryRemove(subscription.Id, out _);
                return new Outcome([attempt]);
            case DeliveryOutcome.Rejected:
                if (result.DisableSubscription)
                {
                    await DisableAsync(subscription, $"the receiver answered: {result.Detail}", cancellationToken).ConfigureAwait(false);
                }

                return DeadLettered(delivery, subscription, result.Detail, now, [attempt]);
            default:
                var since = _failingSince.GetOrAdd(subscription.Id, now);
                if (now - since >= TimeSpan.FromHours(state.Options.DisableAfterHours))
                {
                    await DisableAsync(subscription, $"every delivery failed for {state.Options.DisableAfterHours} hours; the last: {result.Detail}", cancellationToken).ConfigureAwait(false);
                    return DeadLettered(delivery, subscription, $"the subscription was disabled after failing since {SnsEnvelope.Timestamp(since)}: {result.Detail}", now, [attempt]);
                }

                if (delivery.Attempt > _schedule.Count)
                {
                    return DeadLettered(delivery, subscription, $"gave up after {delivery.Attempt} attempts; the last: {result.Detail}", now, [attempt]);
                }

                var delay = _schedule[delivery.Attempt - 1];
                var jitter = delay * (Random.Shared.NextDouble() * state.Options.RetryJitterPercent / 100.0);
                return new Outcome([attempt], delivery with { Attempt = delivery.Attempt + 1, DueAt = now + delay - jitter, LastReason = result.Detail }, RetryLevel: delivery.Attempt);
        }
    }

    /// <summary>
    /// A delivery over a limit waits on the first retry level whose delay covers the limiter's wait (or the last level, and
    /// then asks again): every record appended to that level after it is due no earlier than it (up to the jitter), so it
    /// holds none of them up. It keeps its attempt number: being over a limit is not a failed attempt.
    /// </summary>
    private Outcome Deferred(DeliveryRecord delivery, SubscriptionRecord subscription, RateLimitVerdict verdict)
    {
        var now = time.GetUtcNow();
        var level = 1;
        while (level < _schedule.Count && _schedule[level - 1] < verdict.RetryAfter)
        {
            level++;
        }

        var wait = verdict.RetryAfter < _schedule[level - 1] ? verdict.RetryAfter : _schedule[level - 1];
        var detail = $"{verdict.Reason}; deferred {wait.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s";
        var attempt = new AttemptRecord(delivery.Message.MessageId, subscription.Arn, subscription.Protocol, delivery.Attempt, RateLimitedOutcome, detail, now);
        return new Outcome([attempt], delivery with { DueAt = now + wait }, RetryLevel: level);
    }

    /// <summary>The user a delivery is for: the owner of the user topic it was published to, or null for any other topic.</summary>
    private string? UserOf(SubscriptionRecord subscription) =>
        UserDirectory.UserOfTopic(subscription.TopicArn[(subscription.TopicArn.LastIndexOf(':') + 1)..]) is { } user && state.FindUser(user) is not null ? user : null;

    private async Task<DeliveryResult> AttemptThroughBreakerAsync(IDeliveryChannel channel, DeliveryRequest request, CancellationToken cancellationToken)
    {
        var destination = Destination(request.Subscription);
        var breaker = _breakers.GetOrAddPipeline<DeliveryResult>(destination, builder => builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<DeliveryResult>
        {
            FailureRatio = 1.0,
            MinimumThroughput = state.Options.BreakerFailures,
            SamplingDuration = TimeSpan.FromSeconds(Math.Max(state.Options.BreakerOpenSeconds, 60)),
            BreakDuration = TimeSpan.FromSeconds(state.Options.BreakerOpenSeconds),
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result.Outcome == DeliveryOutcome.Failed),
        }));
        try
        {
            return await breaker.ExecuteAsync(static async (state, token) => await state.channel.DeliverAsync(state.request, token).ConfigureAwait(false), (channel, request), cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            return DeliveryResult.Failed($"the circuit to {destination} is open after repeated failures; not attempted");
        }
    }

    /// <summary>The destination a circuit breaker guards: a webhook's host and port, else the protocol and endpoint.</summary>
    private static string Destination(SubscriptionTarget target) =>
        target.Protocol is "http" or "https" && Uri.TryCreate(target.Endpoint, UriKind.Absolute, out var uri)
            ? $"{uri.Scheme}://{uri.Authority}"
            : target.Protocol is "email" or "email-json" ? "smtp" : $"{target.Protocol}:{target.Endpoint}";

    private Outcome DeadLettered(DeliveryRecord delivery, SubscriptionRecord subscription, string reason, DateTimeOffset now, List<AttemptRecord> attempts)
    {
        attempts.Add(new AttemptRecord(delivery.Message.MessageId, subscription.Arn, subscription.Protocol, delivery.Attempt, "DeadLettered", reason, now));
        LogDeadLettered(delivery.DeliveryId, reason);
        return new Outcome(attempts, Dead: new DeadLetter(delivery, subscription.Arn, reason, now));
    }

    private async Task DisableAsync(SubscriptionRecord subscription, string reason, CancellationToken cancellationToken)
    {
        await state.UpdateSubscriptionAsync(subscription.Id, current => current.DisabledReason is null ? current with { DisabledReason = reason } : current, cancellationToken).ConfigureAwait(false);
        LogDisabled(subscription.Arn, reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "notify stage on {Topic} failed; it resumes from its committed offset")]
    private partial void LogStageFailed(string topic, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "delivery {DeliveryId} dead-lettered: {Reason}")]
    private partial void LogDeadLettered(string deliveryId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscription {Arn} disabled: {Reason}")]
    private partial void LogDisabled(string arn, string reason);
}
