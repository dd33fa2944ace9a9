using System.Threading.Channels;

namespace Blueprint.Chat.Storage;

/// <summary>
/// Group commit of new messages: sends that arrive together are inserted in one transaction, so one fsync (SQLite's WAL
/// with synchronous=FULL, or PostgreSQL's commit) covers them all instead of one each. Each send is answered only after
/// the commit that holds it, so an acknowledged message is durable. The queue is bounded
/// (<see cref="QueueLimit"/>): past it, senders wait. At stop the queue is drained before the store goes away.
/// </summary>
internal sealed class MessageWriter : IAsyncDisposable
{
    /// <summary>Messages waiting for a commit before senders wait.</summary>
    public const int QueueLimit = 8192;

    /// <summary>The most messages in one transaction.</summary>
    public const int BatchMax = 512;

    private readonly ChatStore _store;
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueLimit)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Task _loop;

    public MessageWriter(ChatStore store)
    {
        _store = store;
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Stores a message; completes once the transaction holding it has committed.</summary>
    public async Task WriteAsync(ChatMessage message, CancellationToken cancellationToken)
    {
        var pending = new Pending(message);
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(BatchMax);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < BatchMax && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                await _store.InsertMessagesAsync([.. batch.Select(pending => pending.Message)], CancellationToken.None).ConfigureAwait(false);
                batch.ForEach(pending => pending.Done.TrySetResult());
            }
            catch (Exception e)
            {
                // The transaction rolled back: none of the batch is stored, and each sender is told.
                batch.ForEach(pending => pending.Done.TrySetException(e));
            }

            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private sealed record Pending(ChatMessage Message)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
