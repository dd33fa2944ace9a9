using System.Text.Json;
using Blueprint.Notify.Pipeline;
using Blueprint.Notify.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Blueprint.Notify.Product;

/// <summary>
/// Publishes messages when they are due (scheduled sends, sends held by quiet hours) and closes digests whose window ended. Each waits in the state's log
/// topic, so it survives a restart; it is published, then forgotten — a crash between the two publishes it again with
/// the same message id, which receivers de-duplicate. Checked at least every second, so a send is at most about a
/// second late.
/// </summary>
public sealed partial class Scheduler(NotifyState state, Publisher publisher, IServiceProvider services, TimeProvider time, ILogger<Scheduler> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>Stores messages to publish at their due times.</summary>
    public Task ScheduleAsync(IReadOnlyList<(AcceptedMessage Message, DateTimeOffset Due)> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return state.ScheduleAsync(
            [.. messages.Select(pair => new ScheduledRecord(pair.Message.MessageId, pair.Due, JsonSerializer.Serialize(pair.Message, PipelineJson.Options)))],
            cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Tick, time, stoppingToken).ConfigureAwait(false);
                var now = time.GetUtcNow();
                foreach (var due in state.Scheduled.TakeWhile(record => record.DueAt <= now).Take(1000).ToList())
                {
                    var message = JsonSerializer.Deserialize<AcceptedMessage>(due.Message, PipelineJson.Options)!;
                    await publisher.AcceptAsync([message with { Timestamp = now }], stoppingToken).ConfigureAwait(false);
                    await state.UnscheduleAsync(due.Id, stoppingToken).ConfigureAwait(false);
                }

                // The sender renders digests and needs this scheduler for quiet hours: resolved here, not injected.
                await services.GetRequiredService<Sender>().FlushDigestsAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or JsonException)
            {
                LogFailed(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "publishing due notifications failed; retried on the next tick")]
    private partial void LogFailed(Exception exception);
}
