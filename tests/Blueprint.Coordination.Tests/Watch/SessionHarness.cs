using System.Threading.Channels;
using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using Blueprint.Coordination.Watch;
using Microsoft.Extensions.Time.Testing;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Watch;

/// <summary>Fixed cluster identity in every header, so tests can check the header source is used.</summary>
internal sealed class TestHeaders : IResponseHeaderSource
{
    public ResponseHeader Header(long revision) => new() { ClusterId = 7, MemberId = 9, RaftTerm = 3, Revision = revision };
}

/// <summary>A store, a fake clock and one running <see cref="WatchSession"/> whose responses land in a channel.</summary>
internal sealed class SessionHarness : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Channel<WatchResponse> _responses = Channel.CreateUnbounded<WatchResponse>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public SessionHarness(WatchOptions? options = null, MvccStore? store = null, Func<WatchResponse, CancellationToken, Task>? send = null)
    {
        Store = store ?? new MvccStore();
        Session = new WatchSession(Store, new TestHeaders(), options ?? new WatchOptions(), Time);
        _run = Session.RunAsync(send ?? Collect, _stop.Token);
    }

    public MvccStore Store { get; }

    public FakeTimeProvider Time { get; } = new();

    public WatchSession Session { get; }

    public Task Collect(WatchResponse response, CancellationToken cancellationToken) =>
        _responses.Writer.WriteAsync(response, cancellationToken).AsTask();

    public Task Submit(WatchRequest request) => Session.SubmitAsync(request, TestContext.Current.CancellationToken).AsTask();

    public Task Create(string key, string rangeEnd = "", long startRevision = 0, long watchId = 0, bool prevKv = false, bool progressNotify = false, params WatchCreateRequest.Types.FilterType[] filters) =>
        Submit(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = B(key),
                RangeEnd = B(rangeEnd),
                StartRevision = startRevision,
                WatchId = watchId,
                PrevKv = prevKv,
                ProgressNotify = progressNotify,
                Filters = { filters },
            },
        });

    public Task Cancel(long watchId) => Submit(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = watchId } });

    /// <summary>The next response, failing the test when none comes within the deadline.</summary>
    public async Task<WatchResponse> Next()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(Deadline);
        return await _responses.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>
    /// Asks for progress and answers every response that came before the progress response: the
    /// session is caught up when it answers, so this is "everything sent so far", without sleeping.
    /// </summary>
    public async Task<List<WatchResponse>> DrainWithProgress()
    {
        await Submit(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        var before = new List<WatchResponse>();
        while (true)
        {
            var response = await Next();
            if (response.WatchId == WatchSession.ProgressWatchId && !response.Created)
            {
                return before;
            }

            before.Add(response);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }

        Session.Dispose();
        Store.Dispose();
        _stop.Dispose();
    }

    /// <summary>"PUT a=1@2" / "DELETE a@3" for each event, for compact assertions.</summary>
    public static string[] Describe(WatchResponse response) =>
        [.. response.Events.Select(e => e.Type == Event.Types.EventType.Put
            ? $"PUT {S(e.Kv.Key)}={S(e.Kv.Value)}@{e.Kv.ModRevision}"
            : $"DELETE {S(e.Kv.Key)}@{e.Kv.ModRevision}")];
}
