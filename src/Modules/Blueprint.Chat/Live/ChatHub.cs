using System.Collections.Concurrent;
using Blueprint.Hosting;

namespace Blueprint.Chat.Live;

/// <summary>
/// The node's live connections and who is subscribed to which room. Frames come off the <see cref="RoomBus"/> in each
/// room's id order and are queued to the room's local subscribers, never waiting on one. A subscribe joins in two steps
/// so its replay meets the live stream without a gap or a duplicate: while its replay is read the connection is
/// <i>joining</i> and the room's frames are held for it; then the replay, the <c>subscribed</c> reply and the held frames
/// above the replay's last id are queued in that order, and it is live. Each live subscriber has a floor, the newest
/// message id it has been given, and never gets a message at or below it.
/// </summary>
internal sealed class ChatHub(Microsoft.Extensions.Options.IOptions<ChatOptions> options)
{
    /// <summary>The close code of a connection cut off because the node lost the bus (it may have missed messages): reconnect and subscribe with <c>since</c>.</summary>
    public const int ResyncCloseCode = 4009;

    private readonly ConcurrentDictionary<long, RoomState> _rooms = new();
    private readonly ConcurrentDictionary<ChatConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<long, int> _perUser = new();
    private readonly int _holdMax = options.Value.SendQueueLimit;
    private long _slowConsumersCut;

    /// <summary>Connections cut off as slow consumers since the node started.</summary>
    public long SlowConsumersCut => Interlocked.Read(ref _slowConsumersCut);

    /// <summary>Whether <paramref name="userId"/> has a connection open on this node.</summary>
    public bool HasConnection(long userId) => _perUser.TryGetValue(userId, out var count) && count > 0;

    /// <summary>Counts an authenticated connection.</summary>
    public void Add(ChatConnection connection)
    {
        if (connection.User is { } user && _connections.TryAdd(connection, 0))
        {
            _perUser.AddOrUpdate(user.Id, 1, (_, count) => count + 1);
        }
    }

    /// <summary>Forgets a connection and its subscriptions.</summary>
    public void Remove(ChatConnection connection)
    {
        if (_connections.TryRemove(connection, out _) && connection.User is { } user)
        {
            _perUser.AddOrUpdate(user.Id, 0, (_, count) => count - 1);
            _perUser.TryRemove(new KeyValuePair<long, int>(user.Id, 0));
        }

        foreach (var roomId in connection.Rooms.Keys)
        {
            Unsubscribe(roomId, connection);
        }
    }

    /// <summary>The first step of a subscribe: from now on the room's frames are held for the connection until <see cref="CompleteJoin"/>.</summary>
    public void BeginJoin(long roomId, ChatConnection connection)
    {
        connection.Rooms[roomId] = 0;
        Room(roomId).BeginJoin(connection);
    }

    /// <summary>
    /// The second step: queues <paramref name="replay"/> (uncounted), then <paramref name="subscribed"/>, then the frames
    /// held meanwhile that are not messages at or below <paramref name="floor"/>; the connection is live from then on.
    /// </summary>
    public void CompleteJoin(long roomId, ChatConnection connection, IReadOnlyList<byte[]> replay, long floor, byte[] subscribed)
    {
        CutOff(Room(roomId).CompleteJoin(connection, replay, floor, subscribed, _holdMax));
    }

    public void Unsubscribe(long roomId, ChatConnection connection)
    {
        connection.Rooms.TryRemove(roomId, out _);
        if (_rooms.TryGetValue(roomId, out var room))
        {
            room.Remove(connection);
        }
    }

    /// <summary>Queues a frame off the bus to the room's subscribers on this node, and wakes long polls on a new message.</summary>
    public void Dispatch(BusFrame frame)
    {
        var room = Room(frame.Room);
        CutOff(room.Dispatch(frame, _holdMax));
        if (frame.Kind == 'L')
        {
            room.MessageDispatched(frame.Id);
        }
    }

    /// <summary>Closes every subscribed connection with <paramref name="code"/>: they may have missed frames.</summary>
    public void CutSubscribers(int code, string reason)
    {
        foreach (var connection in _connections.Keys)
        {
            if (!connection.Rooms.IsEmpty)
            {
                connection.Close(code, reason);
                Remove(connection);
            }
        }
    }

    /// <summary>A task that completes at the next message dispatched in a room: what a long poll waits on.</summary>
    public Task NextMessageAsync(long roomId) => Room(roomId).Stored.Next;

    /// <summary>Waits (at most <paramref name="timeout"/>) until this node has dispatched message <paramref name="id"/> of a room, so a sender's copy is queued before its ack.</summary>
    public async Task WaitDispatchedAsync(long roomId, long id, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var room = Room(roomId);
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var next = room.Stored.Next;
            var left = deadline - time.GetUtcNow();
            if (room.Dispatched >= id || left <= TimeSpan.Zero)
            {
                return;
            }

            try
            {
                await next.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return;
            }
        }
    }

    /// <summary>Queues a frame to one connection, cutting it off when its queue overflows.</summary>
    public void Deliver(ChatConnection connection, byte[] frame, FrameKind kind)
    {
        if (!connection.Enqueue(frame, kind, out var overflow) && overflow)
        {
            CutOff([connection]);
        }
    }

    private RoomState Room(long roomId) => _rooms.GetOrAdd(roomId, _ => new RoomState());

    private void CutOff(List<ChatConnection>? overflowed)
    {
        if (overflowed is null)
        {
            return;
        }

        foreach (var connection in overflowed)
        {
            Interlocked.Increment(ref _slowConsumersCut);
            Remove(connection);
        }
    }

    private sealed class RoomState
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<ChatConnection, Floor> _floors = [];
        private readonly Dictionary<ChatConnection, List<BusFrame>> _joining = [];
        private long _dispatched;

        /// <summary>Pulsed when a message is dispatched: what long polls and acks wait on.</summary>
        public ChangeSignal Stored { get; } = new();

        public long Dispatched => Interlocked.Read(ref _dispatched);

        public void MessageDispatched(long id)
        {
            Interlocked.Exchange(ref _dispatched, id);
            Stored.Pulse();
        }

        public void BeginJoin(ChatConnection connection)
        {
            lock (_lock)
            {
                _floors.Remove(connection);
                _joining[connection] = [];
            }
        }

        public List<ChatConnection>? CompleteJoin(ChatConnection connection, IReadOnlyList<byte[]> replay, long floor, byte[] subscribed, int holdMax)
        {
            lock (_lock)
            {
                if (!_joining.Remove(connection, out var held))
                {
                    return null;
                }

                foreach (var frame in replay)
                {
                    connection.Enqueue(frame, FrameKind.Replay, out _);
                }

                connection.Enqueue(subscribed, FrameKind.Live, out var overflow);
                if (held.Count > holdMax)
                {
                    // More arrived during the replay than the connection may have waiting: it is already a slow consumer.
                    connection.Close(ChatConnection.SlowConsumerCloseCode, "slow consumer: send queue full");
                    return [connection];
                }

                foreach (var frame in held)
                {
                    if (!overflow && Wanted(connection, frame, ref floor))
                    {
                        connection.Enqueue(frame.Frame, frame.Kind == 'D' ? FrameKind.Droppable : FrameKind.Live, out overflow);
                    }
                }

                if (overflow)
                {
                    return [connection];
                }

                _floors[connection] = new Floor { Value = floor };
                return null;
            }
        }

        public List<ChatConnection>? Dispatch(BusFrame frame, int holdMax)
        {
            List<ChatConnection>? overflowed = null;
            lock (_lock)
            {
                foreach (var held in _joining.Values)
                {
                    if (held.Count <= holdMax)
                    {
                        held.Add(frame);
                    }
                }

                foreach (var (connection, floor) in _floors)
                {
                    if (Wanted(connection, frame, ref floor.Value))
                    {
                        if (!connection.Enqueue(frame.Frame, frame.Kind == 'D' ? FrameKind.Droppable : FrameKind.Live, out var overflow) && overflow)
                        {
                            (overflowed ??= []).Add(connection);
                        }
                    }
                }
            }

            return overflowed;
        }

        /// <summary>Whether a frame goes to a connection: not a message at or below its floor, not typing to the typist; moves the floor.</summary>
        private static bool Wanted(ChatConnection connection, BusFrame frame, ref long floor)
        {
            if (frame.ExceptUser != 0 && connection.User?.Id == frame.ExceptUser)
            {
                return false;
            }

            if (frame.Kind != 'L')
            {
                return true;
            }

            if (frame.Id <= floor)
            {
                return false;
            }

            floor = frame.Id;
            return true;
        }

        public void Remove(ChatConnection connection)
        {
            lock (_lock)
            {
                _floors.Remove(connection);
                _joining.Remove(connection);
            }
        }

        /// <summary>A live subscriber's floor: the newest message id it has been given.</summary>
        private sealed class Floor
        {
            public long Value;
        }
    }
}
