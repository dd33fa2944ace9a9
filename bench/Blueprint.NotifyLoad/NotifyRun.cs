using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Blueprint.Bench;
using HdrHistogram;

namespace Blueprint.NotifyLoad;

/// <summary>What one run measured.</summary>
/// <param name="Published">Requests sent in the measured window.</param>
/// <param name="Accepted">Those answered with success (202 by the node, 200 by the receiver).</param>
/// <param name="Delivered">First arrivals of the window's messages (up to the drain's end).</param>
/// <param name="Duplicates">Arrivals of a message that had arrived before, the whole run.</param>
/// <param name="DeliveriesPerSecond">First arrivals within the measured window, per second.</param>
/// <param name="PublishesPerSecond">Requests sent in the measured window, per second.</param>
/// <param name="Latency">Send to first arrival of the window's messages, in microseconds.</param>
/// <param name="Answer">Send to the request's answer of the window's requests, in microseconds.</param>
/// <param name="Errors">Requests that failed or were not answered with success.</param>
/// <param name="FirstError">The first failure's text, or null.</param>
/// <param name="Unreadable">POSTs the receiver could not read as a message of this run.</param>
/// <param name="ConfirmedBy">How the subscription was confirmed (pipeline), or null.</param>
internal sealed record RunResult(
    long Published, long Accepted, long Delivered, long Duplicates, double DeliveriesPerSecond, double PublishesPerSecond,
    LongHistogram Latency, LongHistogram Answer, long Errors, string? FirstError, long Unreadable, string? ConfirmedBy);

/// <summary>
/// One run: the receiver starts (and, for the pipeline, the topic and its confirmed subscription are created), the
/// publishers run for the warm-up and the measured window, then the run waits (at most the drain) for the window's
/// messages still on their way.
/// </summary>
internal static partial class NotifyRun
{
    /// <summary>How long the subscription's confirmation may take.</summary>
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs the load.</summary>
    public static async Task<RunResult> RunAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        await using var receiver = await Receiver.StartAsync(client, cancellationToken).ConfigureAwait(false);

        Func<long, long, Task<HttpResponseMessage>> send;
        string? topicArn = null;
        if (options.Mode == "pipeline")
        {
            topicArn = await SubscribeAsync(client, options, receiver, cancellationToken).ConfigureAwait(false);
            var publish = new Uri(options.Node!, $"/api/notify/topics/{Uri.EscapeDataString(options.Topic)}/messages");
            send = (sequence, sent) =>
            {
                var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = Message.Format(sequence, sent) });
                return client.PostAsync(publish, new StringContent(json, Encoding.UTF8, "application/json"), CancellationToken.None);
            };
        }
        else
        {
            send = (sequence, sent) =>
                client.PostAsync(receiver.Endpoint, new StringContent(Message.Format(sequence, sent), Encoding.UTF8, "text/plain"), CancellationToken.None);
        }

        try
        {
            var start = Stopwatch.GetTimestamp();
            var from = start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
            var to = from + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            receiver.Window.Set(from, to);
            using var publishers = new Publishers(send, options);
            await publishers.RunAsync(start, from, to, cancellationToken).ConfigureAwait(false);

            var drainUntil = Stopwatch.GetTimestamp() + (long)(options.Drain.TotalSeconds * Stopwatch.Frequency);
            while (receiver.DeliveredOfWindow < publishers.AcceptedInWindow && Stopwatch.GetTimestamp() < drainUntil)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            var latency = MeasuredWindow.NewHistogram();
            receiver.Window.AddLatencyTo(latency);
            var seconds = options.Duration.TotalSeconds;
            return new RunResult(
                publishers.PublishedInWindow, publishers.AcceptedInWindow, receiver.DeliveredOfWindow, receiver.Duplicates,
                receiver.ReceivedInWindow / seconds, publishers.PublishedInWindow / seconds, latency, publishers.AnswerLatency(),
                publishers.Errors, publishers.FirstError, receiver.Unreadable, receiver.ConfirmedBy);
        }
        finally
        {
            if (topicArn is not null)
            {
                // Deleting the topic deletes its subscription: nothing is delivered to this receiver once it is gone.
                using var deleted = await SnsAsync(client, options, $"Action=DeleteTopic&TopicArn={Uri.EscapeDataString(topicArn)}", CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Creates the topic and a raw http subscription to the receiver, and waits for its confirmation; returns the topic's ARN.</summary>
    private static async Task<string> SubscribeAsync(HttpClient client, LoadOptions options, Receiver receiver, CancellationToken cancellationToken)
    {
        using var created = await SnsAsync(client, options, $"Action=CreateTopic&Name={Uri.EscapeDataString(options.Topic)}", cancellationToken).ConfigureAwait(false);
        var xml = await created.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var arn = TopicArn().Match(xml) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException($"CreateTopic answered without a TopicArn: {xml}");
        using var subscribed = await SnsAsync(
            client,
            options,
            $"Action=Subscribe&TopicArn={Uri.EscapeDataString(arn)}&Protocol=http&Endpoint={Uri.EscapeDataString(receiver.Endpoint.ToString())}" +
            "&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true",
            cancellationToken).ConfigureAwait(false);
        await receiver.Confirmed.WaitAsync(ConfirmTimeout, cancellationToken).ConfigureAwait(false);
        return arn;
    }

    /// <summary>One SNS action (a form POST); a status other than 2xx throws with the answer.</summary>
    private static async Task<HttpResponseMessage> SnsAsync(HttpClient client, LoadOptions options, string form, CancellationToken cancellationToken)
    {
        var response = await client.PostAsync(options.Sns, new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded"), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            response.Dispose();
            throw new InvalidOperationException($"SNS {form.Split('&')[0]} answered {(int)response.StatusCode}: {text}");
        }

        return response;
    }

    [GeneratedRegex("<TopicArn>([^<]+)</TopicArn>")]
    private static partial Regex TopicArn();

    /// <summary>The publishers: flat out with a bound of requests in flight, or paced at a rate under the same bound (<see cref="Pacer"/>).</summary>
    private sealed class Publishers(Func<long, long, Task<HttpResponseMessage>> send, LoadOptions options) : IDisposable
    {
        private readonly SemaphoreSlim _inFlight = new(options.Concurrency, options.Concurrency);
        private readonly MeasuredWindow _window = new();
        private long _publishedInWindow;
        private long _acceptedInWindow;
        private long _errors;
        private string? _firstError;

        /// <summary>Requests whose send time fell in the measured window.</summary>
        public long PublishedInWindow => Interlocked.Read(ref _publishedInWindow);

        /// <summary>Those answered with success.</summary>
        public long AcceptedInWindow => Interlocked.Read(ref _acceptedInWindow);

        /// <summary>Failed requests.</summary>
        public long Errors => Interlocked.Read(ref _errors);

        /// <summary>The first failure's text.</summary>
        public string? FirstError => Volatile.Read(ref _firstError);

        /// <summary>Send to answer of the window's successful requests, in microseconds.</summary>
        public LongHistogram AnswerLatency()
        {
            var latency = MeasuredWindow.NewHistogram();
            _window.AddLatencyTo(latency);
            return latency;
        }

        /// <summary>Sends from <paramref name="start"/> until <paramref name="to"/>, then waits for those in flight.</summary>
        public Task RunAsync(long start, long from, long to, CancellationToken cancellationToken)
        {
            _window.Set(from, to);
            return Pacer.RunAsync(options.Rate, _inFlight, options.Concurrency, start, to, sequence => _ = SendAsync(sequence), cancellationToken);
        }

        /// <inheritdoc />
        public void Dispose() => _inFlight.Dispose();

        private async Task SendAsync(long sequence)
        {
            try
            {
                var sent = Stopwatch.GetTimestamp();
                var inWindow = _window.Contains(sent);
                if (inWindow)
                {
                    Interlocked.Increment(ref _publishedInWindow);
                }

                using var response = await send(sequence, sent).ConfigureAwait(false);
                var answered = Stopwatch.GetTimestamp();
                if (!response.IsSuccessStatusCode)
                {
                    Fail($"answered {(int)response.StatusCode} {response.ReasonPhrase}");
                    return;
                }

                if (inWindow)
                {
                    Interlocked.Increment(ref _acceptedInWindow);
                    _window.Record(sent, answered);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Fail($"{e.GetType().Name}: {e.Message}");
            }
            finally
            {
                _inFlight.Release();
            }
        }

        private void Fail(string error)
        {
            Interlocked.Increment(ref _errors);
            Interlocked.CompareExchange(ref _firstError, error, null);
        }
    }
}
