using System.Globalization;
using System.Text;
using Blueprint.Core.RateLimiting.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify.Limits;

/// <summary>What a limit said: pass, or over the limit with why and how long to wait.</summary>
/// <param name="Allowed">Within every limit.</param>
/// <param name="RetryAfter">When over a limit, how long to wait before asking again.</param>
/// <param name="Reason">When over a limit, which one, in words.</param>
public readonly record struct RateLimitVerdict(bool Allowed, TimeSpan RetryAfter, string Reason)
{
    /// <summary>Within every limit.</summary>
    public static RateLimitVerdict Pass { get; } = new(true, TimeSpan.Zero, "");
}

/// <summary>
/// Decides notify's limits through the ratelimit module's store (<see cref="IRateLimitStore"/>, one Lua script per decision on
/// the KV, so every node of a cluster shares the counters). Each limit is a descriptor of the domain <c>notify</c>, and its
/// counter has the key the ratelimit module gives that descriptor: <c>notify|user=alice</c> for a user's sends,
/// <c>notify|user=alice|channel=email</c> for a user's deliveries on a channel, <c>notify|channel=email</c> for a channel's.
/// While the KV cannot be reached, the node decides on its own with the same limits (the ratelimit module's fail-open).
/// </summary>
public sealed partial class NotifyRateLimiter
{
    /// <summary>The descriptor domain of notify's limits.</summary>
    public const string Domain = "notify";

    /// <summary>How long one decision may wait for the KV before the node decides on its own.</summary>
    public static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>After the KV failed, how long the node decides on its own before it tries the KV again.</summary>
    public static readonly TimeSpan KvRest = TimeSpan.FromSeconds(5);

    private const int KeysMax = 10_000;

    private readonly NotifyLimit? _user;
    private readonly IReadOnlyDictionary<string, NotifyLimit> _channel;
    private readonly IReadOnlyDictionary<string, NotifyLimit> _userChannel;
    private readonly IRateLimitStore? _store;
    private readonly LocalRateLimitStore _fallback;
    private readonly TimeProvider _time;
    private readonly ILogger<NotifyRateLimiter> _logger;
    private readonly Dictionary<string, DateTimeOffset> _slots = new(StringComparer.Ordinal);
    private long _kvRestUntilTicks;

    /// <summary>Creates the limiter; the store is the ratelimit module's, when there is a limit to decide.</summary>
    public NotifyRateLimiter(IOptions<NotifyOptions> options, IServiceProvider services, TimeProvider time, ILogger<NotifyRateLimiter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        _user = settings.UserSendLimit;
        _channel = settings.ChannelDeliveryLimits;
        _userChannel = settings.UserChannelDeliveryLimits;
        _store = settings.ConfiguredLimits().Any() ? services.GetService<IRateLimitStore>() : null;
        _fallback = new LocalRateLimitStore(time, KeysMax);
        _time = time;
        _logger = logger;
    }

    /// <summary>Whether any delivery is limited.</summary>
    public bool LimitsDeliveries => _channel.Count > 0 || _userChannel.Count > 0;

    /// <summary>The counter key of a descriptor of the <c>notify</c> domain: <c>notify|user=alice|channel=email</c>.</summary>
    public static string CounterKey(params ReadOnlySpan<(string Key, string Value)> descriptor)
    {
        var key = new StringBuilder(Domain);
        foreach (var (name, value) in descriptor)
        {
            key.Append('|').Append(name).Append('=').Append(value);
        }

        return key.ToString();
    }

    /// <summary>Counts one send for each user, in order, and stops at the first user over the send limit.</summary>
    /// <remarks>The users counted before that one keep their count: a store takes no permit back.</remarks>
    public async Task<RateLimitVerdict> CheckSendAsync(IEnumerable<string> users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        if (_user is not { } limit)
        {
            return RateLimitVerdict.Pass;
        }

        foreach (var user in users)
        {
            var outcome = await DecideAsync(CounterKey(("user", user)), limit, 1, cancellationToken).ConfigureAwait(false);
            if (!outcome.Allowed)
            {
                return new RateLimitVerdict(false, outcome.RetryAfter, $"user {user} is over the send limit {limit.Text}");
            }
        }

        return RateLimitVerdict.Pass;
    }

    /// <summary>
    /// Counts one delivery on <paramref name="channel"/>: against the user's limit on it first (when the delivery is a user's),
    /// then against the channel's. Over a limit, the wait is the limiter's, spaced by the limit's interval behind the deliveries
    /// this node already deferred on the same counter, so a backlog comes back about as fast as the limit lets it through.
    /// </summary>
    /// <param name="user">The user the delivery is for, or null.</param>
    /// <param name="channel">The channel (<see cref="NotifyLimit.ChannelOf"/>).</param>
    /// <param name="waitMax">The longest wait the caller can hold a delivery for; a longer one is cut to it and not queued.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    public async Task<RateLimitVerdict> CheckDeliveryAsync(string? user, string channel, TimeSpan waitMax, CancellationToken cancellationToken)
    {
        if (user is not null && _userChannel.TryGetValue(channel, out var own))
        {
            // A delivery the channel's limit would defer must not spend the user's permit at every re-check: look at the
            // channel's counter first, without consuming (two deliveries racing past this look can still spend one).
            if (_channel.TryGetValue(channel, out var shared))
            {
                var channelKey = CounterKey(("channel", channel));
                var look = await DecideAsync(channelKey, shared, 0, cancellationToken).ConfigureAwait(false);
                if (look.RemainingPermits < 1)
                {
                    return new RateLimitVerdict(false, Queue(channelKey, look.RetryAfter > TimeSpan.Zero ? look.RetryAfter : shared.Interval, shared.Interval, waitMax), $"the {channel} channel is over its limit {shared.Text}");
                }
            }

            var key = CounterKey(("user", user), ("channel", channel));
            var outcome = await DecideAsync(key, own, 1, cancellationToken).ConfigureAwait(false);
            if (!outcome.Allowed)
            {
                return new RateLimitVerdict(false, Queue(key, outcome.RetryAfter, own.Interval, waitMax), $"user {user} is over the {channel} limit {own.Text}");
            }
        }

        if (_channel.TryGetValue(channel, out var total))
        {
            var key = CounterKey(("channel", channel));
            var outcome = await DecideAsync(key, total, 1, cancellationToken).ConfigureAwait(false);
            if (!outcome.Allowed)
            {
                return new RateLimitVerdict(false, Queue(key, outcome.RetryAfter, total.Interval, waitMax), $"the {channel} channel is over its limit {total.Text}");
            }
        }

        return RateLimitVerdict.Pass;
    }

    // The next free moment of each counter this node deferred deliveries on: the n-th delivery deferred on a counter
    // comes back n intervals after the first, instead of all of them asking again at once and all but one waiting again.
    private TimeSpan Queue(string key, TimeSpan retryAfter, TimeSpan interval, TimeSpan waitMax)
    {
        var now = _time.GetUtcNow();
        lock (_slots)
        {
            if (_slots.Count >= KeysMax && !_slots.ContainsKey(key))
            {
                _slots.Clear();
            }

            var slot = now + retryAfter;
            if (_slots.TryGetValue(key, out var next) && next > slot)
            {
                slot = next;
            }

            if (slot - now > waitMax)
            {
                return waitMax;
            }

            _slots[key] = slot + interval;
            return slot - now;
        }
    }

    private async ValueTask<RateLimitOutcome> DecideAsync(string key, NotifyLimit limit, int hits, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        if (_store is not null && now >= Interlocked.Read(ref _kvRestUntilTicks))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(DecisionTimeout);
            try
            {
                return await _store.DecideAsync(key, limit.Spec, hits, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Exchange(ref _kvRestUntilTicks, now + KvRest.Ticks);
                LogDegraded(e.Message, KvRest.TotalSeconds.ToString(CultureInfo.InvariantCulture));
            }
        }

        return await _fallback.DecideAsync(key, limit.Spec, hits, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "notify rate limits: the KV cannot be reached ({Reason}); this node decides on its own for {Seconds} s")]
    private partial void LogDegraded(string reason, string seconds);
}
