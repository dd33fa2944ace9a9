// One etcd v3 watch stream (the Watch RPC of etcd's rpc.proto), following etcd v3.4's server
// watch.go and mvcc watchable store for the protocol: created first, compacted starts canceled
// with compact_revision, duplicate IDs refused, progress responses with watch_id -1.
using System.Threading.Channels;
using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Google.Protobuf;

namespace Blueprint.Coordination.Watch;

/// <summary>
/// The watchers of one client stream and the loop that feeds them. Delivery is pull-based: the
/// store's revision log is the only queue. <see cref="MvccStore.Applied"/> merely wakes the loop,
/// which reads each watcher's events from its next revision in bounded batches and sends them.
/// So Apply never waits for a watcher, a slow client costs no memory beyond one batch, and each
/// watcher gets every matching revision exactly once, in order, with one revision's events never
/// split. A watcher that falls behind a compaction is canceled with <c>compact_revision</c> set,
/// as etcd does. All watcher state is touched only by the loop in <see cref="RunAsync"/>.
/// </summary>
public sealed class WatchSession : IDisposable
{
    /// <summary>The watch ID of a response that answers a progress request rather than one watcher (etcd's -1).</summary>
    public const long ProgressWatchId = -1;

    /// <summary>etcd's reason for a create whose ID is already used on the stream.</summary>
    public const string DuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchSession";

    /// <summary>etcd's reason for a create whose range holds no key.</summary>
    public const string EmptyRangeReason = "mvcc: watcher range is empty";

    /// <summary>The reason for a create past <see cref="WatchOptions.WatchersPerStreamMax"/>.</summary>
    public const string TooManyWatchersReason = "etcdserver: too many watchers on the stream";

    private readonly MvccStore _store;
    private readonly IResponseHeaderSource _headers;
    private readonly WatchOptions _options;
    private readonly Channel<WatchRequest> _requests;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly SortedDictionary<long, Watcher> _watchers = [];
    private readonly ITimer _progressTimer;
    private long _nextId;
    private bool _progressRequested;
    private volatile bool _progressNotifyDue;

    /// <summary>Opens a session on <paramref name="store"/>; it starts listening to applies at once.</summary>
    /// <param name="store">The store whose changes are watched.</param>
    /// <param name="headers">Builds response headers.</param>
    /// <param name="options">Bounds and timings; validated here.</param>
    /// <param name="timeProvider">Clock for progress notifications.</param>
    public WatchSession(MvccStore store, IResponseHeaderSource headers, WatchOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.Validate();
        _store = store;
        _headers = headers;
        _options = options;
        _requests = Channel.CreateBounded<WatchRequest>(
            new BoundedChannelOptions(options.RequestsQueuedMax) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _store.Applied += OnApplied;
        _progressTimer = timeProvider.CreateTimer(
            _ =>
            {
                _progressNotifyDue = true;
                Wake();
            },
            null,
            options.ProgressNotifyInterval,
            options.ProgressNotifyInterval);
    }

    /// <summary>
    /// Queues a client request (create, cancel or progress); waits while
    /// <see cref="WatchOptions.RequestsQueuedMax"/> requests are already queued.
    /// </summary>
    /// <param name="request">The client's request.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>Completes once the request is queued.</returns>
    public async ValueTask SubmitAsync(WatchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _requests.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        Wake();
    }

    /// <summary>
    /// Runs the stream until <paramref name="cancellationToken"/> fires or <paramref name="send"/>
    /// fails; the only caller of <paramref name="send"/>, one response at a time.
    /// </summary>
    /// <param name="send">Writes one response to the client.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <returns>Completes (canceled) when the stream ends.</returns>
    public async Task RunAsync(Func<WatchResponse, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(send);
        Wake();
        while (true)
        {
            await _wake.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await PassAsync(send, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening to the store and the clock.</summary>
    public void Dispose()
    {
        _store.Applied -= OnApplied;
        _progressTimer.Dispose();
        _requests.Writer.TryComplete();
    }

    private void OnApplied(long revision, IReadOnlyList<Event> events) => Wake();

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Handles queued requests, brings every watcher up to the revision seen at the start, then answers progress.</summary>
    private async Task PassAsync(Func<WatchResponse, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var target = _store.Revision;
        while (true)
        {
            // Requests are handled between catch-up rounds, so a cancel is never stuck behind a long replay.
            while (_requests.Reader.TryRead(out var request))
            {
                await HandleAsync(request, send, cancellationToken).ConfigureAwait(false);
            }

            if (_progressRequested)
            {
                // A progress answer covers every revision applied before the request was read, not only those
                // applied before this pass began: a client that wrote, then asked, must see its write first.
                target = Math.Max(target, _store.Revision);
            }

            var lagging = _watchers.Values.Where(watcher => watcher.NextRevision <= target).ToList();
            if (lagging.Count == 0)
            {
                break;
            }

            // One batch per lagging watcher per round: a long replay does not starve the others.
            foreach (var watcher in lagging)
            {
                await CatchUpOnceAsync(watcher, send, cancellationToken).ConfigureAwait(false);
            }
        }

        // Every watcher has now sent everything up to target, so a progress header of target is truthful.
        if (_progressRequested)
        {
            _progressRequested = false;
            await send(new WatchResponse { Header = _headers.Header(target), WatchId = ProgressWatchId }, cancellationToken).ConfigureAwait(false);
        }

        if (_progressNotifyDue)
        {
            _progressNotifyDue = false;
            foreach (var watcher in _watchers.Values)
            {
                if (watcher.ProgressNotify && !watcher.SentSinceNotify)
                {
                    await send(new WatchResponse { Header = _headers.Header(target), WatchId = watcher.Id }, cancellationToken).ConfigureAwait(false);
                }

                watcher.SentSinceNotify = false;
            }
        }
    }

    private async Task CatchUpOnceAsync(Watcher watcher, Func<WatchResponse, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var read = _store.ReadHistory(watcher.NextRevision, watcher.Range, watcher.PrevKv, _options.EventsPerResponseMax, _options.HistoryScanEntriesMax);
        if (read.IsCompacted)
        {
            _watchers.Remove(watcher.Id);
            await send(Compacted(watcher.Id, read.StoreRevision, read.CompactRevision), cancellationToken).ConfigureAwait(false);
            return;
        }

        WatchResponse? response = null;
        foreach (var revision in read.Revisions)
        {
            var kept = revision.Events.Where(watcher.Wants).ToList();
            if (kept.Count == 0)
            {
                continue;
            }

            if (response is not null && response.Events.Count + kept.Count > _options.EventsPerResponseMax)
            {
                await SendEventsAsync(watcher, response, send, cancellationToken).ConfigureAwait(false);
                response = null;
            }

            response ??= new WatchResponse { Header = _headers.Header(read.StoreRevision), WatchId = watcher.Id };
            response.Events.AddRange(kept);
        }

        if (response is not null)
        {
            await SendEventsAsync(watcher, response, send, cancellationToken).ConfigureAwait(false);
        }

        watcher.NextRevision = read.NextRevision;
    }

    private static async Task SendEventsAsync(Watcher watcher, WatchResponse response, Func<WatchResponse, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        watcher.SentSinceNotify = true;
        await send(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task HandleAsync(WatchRequest request, Func<WatchResponse, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        switch (request.RequestUnionCase)
        {
            case WatchRequest.RequestUnionOneofCase.CreateRequest:
                foreach (var response in Create(request.CreateRequest))
                {
                    await send(response, cancellationToken).ConfigureAwait(false);
                }

                break;
            case WatchRequest.RequestUnionOneofCase.CancelRequest:
                var id = request.CancelRequest.WatchId;
                if (_watchers.Remove(id))
                {
                    await send(new WatchResponse { Header = _headers.Header(_store.Revision), WatchId = id, Canceled = true }, cancellationToken).ConfigureAwait(false);
                }

                break;
            case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                _progressRequested = true;
                break;
            default:
                break;
        }
    }

    /// <summary>Registers a watcher and answers created; or answers created-and-canceled with etcd's reason.</summary>
    private List<WatchResponse> Create(WatchCreateRequest request)
    {
        var (revision, compactRevision) = _store.Positions();
        var header = _headers.Header(revision);

        // etcd reads an empty key as "\0", the smallest key.
        var range = new KeyRange(request.Key.IsEmpty ? ByteString.CopyFrom(0) : request.Key, request.RangeEnd);
        string? refusal = null;
        if (range.IsEmpty)
        {
            refusal = EmptyRangeReason;
        }
        else if (_watchers.Count >= _options.WatchersPerStreamMax)
        {
            refusal = TooManyWatchersReason;
        }
        else if (request.WatchId != 0 && _watchers.ContainsKey(request.WatchId))
        {
            refusal = DuplicateIdReason;
        }

        if (refusal is not null)
        {
            return [new WatchResponse { Header = header, WatchId = ProgressWatchId, Created = true, Canceled = true, CancelReason = refusal }];
        }

        var id = request.WatchId;
        if (id == 0)
        {
            while (_watchers.ContainsKey(_nextId))
            {
                _nextId++;
            }

            id = _nextId++;
        }

        var created = new WatchResponse { Header = header, WatchId = id, Created = true };
        var start = request.StartRevision > 0 ? request.StartRevision : revision + 1;
        if (start < compactRevision)
        {
            return [created, Compacted(id, revision, compactRevision)];
        }

        _watchers.Add(id, new Watcher(id, range, start, request));
        return [created];
    }

    private WatchResponse Compacted(long id, long revision, long compactRevision) =>
        new() { Header = _headers.Header(revision), WatchId = id, Canceled = true, CompactRevision = compactRevision };

    private sealed class Watcher(long id, KeyRange range, long nextRevision, WatchCreateRequest request)
    {
        private readonly bool _noPut = request.Filters.Contains(WatchCreateRequest.Types.FilterType.Noput);
        private readonly bool _noDelete = request.Filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete);

        public long Id { get; } = id;

        public KeyRange Range { get; } = range;

        public bool PrevKv { get; } = request.PrevKv;

        public bool ProgressNotify { get; } = request.ProgressNotify;

        /// <summary>First revision not yet delivered; only grows.</summary>
        public long NextRevision { get; set; } = nextRevision;

        public bool SentSinceNotify { get; set; }

        public bool Wants(Event change) => change.Type == Event.Types.EventType.Put ? !_noPut : !_noDelete;
    }
}
