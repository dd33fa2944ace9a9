using System.Threading.Channels;
using Blueprint.Chat.Storage;

namespace Blueprint.Chat.Live;

/// <summary>How a frame counts against a connection's send queue.</summary>
internal enum FrameKind
{
    /// <summary>Messages, edits, receipts and replies: past the limit the connection is cut off as a slow consumer.</summary>
    Live,

    /// <summary>Typing and pings: dropped when the queue is full.</summary>
    Droppable,

    /// <summary>A subscribe's replay, already bounded by <see cref="ChatOptions.ReplayMax"/>: never counted.</summary>
    Replay,
}

/// <summary>
/// One client connection's send side, whatever the transport (WebSocket or SSE): a queue of frames drained by a single writer, bounded by
/// <see cref="ChatOptions.SendQueueLimit"/> live frames. Fan-out never waits on a connection: a connection that falls
/// that far behind is cut off (its queue dropped, a close 4008 sent after whatever is already being written).
/// </summary>
internal sealed class ChatConnection(int queueLimit)
{
    /// <summary>The close code of a connection cut off as a slow consumer.</summary>
    public const int SlowConsumerCloseCode = 4008;

    private readonly Channel<Outgoing> _queue = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private int _waiting;
    private bool _closing;

    /// <summary>The rooms this connection is subscribed to (kept by <see cref="ChatHub"/>).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<long, byte> Rooms { get; } = new();

    /// <summary>The authenticated user; null until the connection authenticates.</summary>
    public ChatUser? User { get; set; }

    /// <summary>Whether the connection is closing (cut off, timed out or refused); nothing more is queued.</summary>
    public bool IsClosing
    {
        get
        {
            lock (_gate)
            {
                return _closing;
            }
        }
    }

    /// <summary>Queues a frame; false when it was dropped or the connection is closing.</summary>
    /// <param name="frame">The UTF-8 JSON frame.</param>
    /// <param name="kind">How it counts against the limit.</param>
    /// <param name="overflow">Set when this frame cut the connection off.</param>
    public bool Enqueue(byte[] frame, FrameKind kind, out bool overflow)
    {
        overflow = false;
        lock (_gate)
        {
            if (_closing)
            {
                return false;
            }

            if (kind != FrameKind.Replay && _waiting >= queueLimit)
            {
                if (kind == FrameKind.Droppable)
                {
                    return false;
                }

                overflow = true;
                CloseLocked(SlowConsumerCloseCode, "slow consumer: send queue full");
                return false;
            }

            if (kind != FrameKind.Replay)
            {
                _waiting++;
            }

            _queue.Writer.TryWrite(new Outgoing(frame, kind != FrameKind.Replay, null, null));
            return true;
        }
    }

    /// <summary>Drops what is queued and closes with <paramref name="code"/> once the frame being written is out.</summary>
    public void Close(int code, string reason)
    {
        lock (_gate)
        {
            if (!_closing)
            {
                CloseLocked(code, reason);
            }
        }
    }

    private void CloseLocked(int code, string reason)
    {
        _closing = true;
        while (_queue.Reader.TryRead(out _))
        {
        }

        _waiting = 0;
        _queue.Writer.TryWrite(new Outgoing(null, false, code, reason));
        _queue.Writer.TryComplete();
    }

    /// <summary>Writes queued frames with <paramref name="send"/> until a close is written with <paramref name="close"/> or <paramref name="cancellationToken"/> ends.</summary>
    /// <param name="send">Writes one frame to the transport.</param>
    /// <param name="close">Writes the close (its code and reason) to the transport.</param>
    /// <param name="cancellationToken">Ends the writing.</param>
    public async Task WriteAsync(Func<byte[], CancellationToken, Task> send, Func<int, string?, CancellationToken, Task> close, CancellationToken cancellationToken)
    {
        await foreach (var outgoing in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (outgoing.Frame is { } frame)
            {
                await send(frame, cancellationToken).ConfigureAwait(false);
                if (outgoing.Counted)
                {
                    lock (_gate)
                    {
                        _waiting = Math.Max(_waiting - 1, 0);
                    }
                }
            }
            else
            {
                await close(outgoing.CloseCode!.Value, outgoing.CloseReason, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Ends the queue when the socket is gone, so the writer stops.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _closing = true;
            _queue.Writer.TryComplete();
        }
    }

    private sealed record Outgoing(byte[]? Frame, bool Counted, int? CloseCode, string? CloseReason);
}
