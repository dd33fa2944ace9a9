using System.Collections.Concurrent;
using Blueprint.Hosting;

namespace Blueprint.Chat.Live;

/// <summary>
/// The node's live connections and who is subscribed to which room, and each room's gate: the lock under which a message
/// gets its id, is stored and is queued to the subscribers, so every subscriber sees a room in id order and a
/// subscribe's replay meets the live stream without a gap or a duplicate.
/// </summary>
internal sealed class ChatHub
{
    private readonly ConcurrentDictionary<long, RoomState> _rooms = new();
    private readonly ConcurrentDictionary<ChatConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<long, int> _perUser = new();
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

    /// <summary>Runs <paramref name="action"/> holding room <paramref name="roomId"/>'s gate.</summary>
    public async Task<T> UnderGateAsync<T>(long roomId, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        var room = _rooms.GetOrAdd(roomId, _ => new RoomState());
        await room.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await action().ConfigureAwait(false);
        }
        finally
        {
            room.Gate.Release();
        }
    }

    /// <summary>Subscribes a connection to a room; call under the room's gate.</summary>
    public void Subscribe(long roomId, ChatConnection connection)
    {
        connection.Rooms[roomId] = 0;
        _rooms.GetOrAdd(roomId, _ => new RoomState()).Add(connection);
    }

    public void Unsubscribe(long roomId, ChatConnection connection)
    {
        connection.Rooms.TryRemove(roomId, out _);
        if (_rooms.TryGetValue(roomId, out var room))
        {
            room.Remove(connection);
        }
    }

    /// <summary>Queues a frame to every subscriber of a room but <paramref name="except"/>, never waiting; a subscriber whose queue overflows is cut off and forgotten.</summary>
    public void Broadcast(long roomId, byte[] frame, FrameKind kind, ChatConnection? except = null)
    {
        if (!_rooms.TryGetValue(roomId, out var room))
        {
            return;
        }

        foreach (var connection in room.Subscribers)
        {
            if (connection != except)
            {
                Deliver(connection, frame, kind);
            }
        }
    }

    /// <summary>A task that completes at the next message stored in a room: what a long poll waits on.</summary>
    public Task NextMessageAsync(long roomId) => _rooms.GetOrAdd(roomId, _ => new RoomState()).Stored.Next;

    /// <summary>Wakes the long polls of a room; call under its gate once a message is stored.</summary>
    public void MessageStored(long roomId)
    {
        if (_rooms.TryGetValue(roomId, out var room))
        {
            room.Stored.Pulse();
        }
    }

    /// <summary>Queues a frame to one connection, cutting it off when its queue overflows.</summary>
    public void Deliver(ChatConnection connection, byte[] frame, FrameKind kind)
    {
        connection.Enqueue(frame, kind, out var overflow);
        if (overflow)
        {
            Interlocked.Increment(ref _slowConsumersCut);
            Remove(connection);
        }
    }

    private sealed class RoomState
    {
        private readonly Lock _lock = new();
        private ChatConnection[] _subscribers = [];

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public ChatConnection[] Subscribers => Volatile.Read(ref _subscribers);

        /// <summary>Pulsed when a message is stored: what long polls wait on.</summary>
        public ChangeSignal Stored { get; } = new();

        public void Add(ChatConnection connection)
        {
            lock (_lock)
            {
                if (!_subscribers.Contains(connection))
                {
                    _subscribers = [.. _subscribers, connection];
                }
            }
        }

        public void Remove(ChatConnection connection)
        {
            lock (_lock)
            {
                _subscribers = [.. _subscribers.Where(subscriber => subscriber != connection)];
            }
        }
    }
}
