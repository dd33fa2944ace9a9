using System.Buffers;
using System.IO.Pipelines;
using Blueprint.Log.Kafka.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Blueprint.Log.Kafka;

/// <summary>
/// One Kafka client connection: reads size-prefixed request frames (at most <see cref="LogOptions.MaxRequestBytes"/>),
/// handles them one after another and writes the responses in request order, as a Kafka broker does (a connection's
/// requests are processed in order; clients pipeline several and match responses by correlation id). A malformed
/// frame closes the connection with a log line; other connections are not affected.
/// </summary>
public sealed partial class KafkaConnectionHandler(LogBroker broker, KafkaRequestHandler handler, ILogger<KafkaConnectionHandler> logger) : ConnectionHandler
{
    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var client = new KafkaClient(connection.ConnectionId, connection.RemoteEndPoint?.ToString() ?? "unknown");
        var closed = connection.ConnectionClosed;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(closed).ConfigureAwait(false);
                var buffer = read.Buffer;
                var handled = 0;
                try
                {
                    while (KafkaFrame.TryReadFrame(ref buffer, broker.Options.MaxRequestBytes, out var frame))
                    {
                        await HandleAsync(frame, output, client, closed).ConfigureAwait(false);
                        handled++;
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (handled > 0)
                {
                    var flushed = await output.FlushAsync(closed).ConfigureAwait(false);
                    if (flushed.IsCompleted)
                    {
                        return;
                    }
                }

                if (read.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        LogTruncated(logger, client.Address, buffer.Length);
                    }

                    return;
                }
            }
        }
        catch (KafkaProtocolException e)
        {
            LogBadFrame(logger, client.Address, e.Message);
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested)
        {
        }
        catch (ConnectionResetException)
        {
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Hands one frame to the request handler as one block: the pipe's own memory when the frame is in one segment,
    /// else a copy in a rented buffer (a produce of a megabyte spans hundreds of segments), returned once the request
    /// is answered — nothing keeps a slice of the request past its answer.
    /// </summary>
    private async ValueTask HandleAsync(ReadOnlySequence<byte> frame, PipeWriter output, KafkaClient client, CancellationToken closed)
    {
        if (frame.IsSingleSegment)
        {
            await handler.HandleAsync(frame.First, output, client, closed).ConfigureAwait(false);
            return;
        }

        var length = checked((int)frame.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            frame.CopyTo(rented);
            await handler.HandleAsync(rented.AsMemory(0, length), output, client, closed).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "closing Kafka connection from {Client}: {Reason}")]
    private static partial void LogBadFrame(ILogger logger, string client, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka connection from {Client} closed with {Bytes} bytes of an unfinished frame")]
    private static partial void LogTruncated(ILogger logger, string client, long bytes);
}

/// <summary>Who sent a request: the connection and the client's address (for group member descriptions).</summary>
/// <param name="ConnectionId">Kestrel's connection id.</param>
/// <param name="Address">The client's address.</param>
public sealed record KafkaClient(string ConnectionId, string Address)
{
    /// <summary>The host part of <see cref="Address"/>, as Kafka reports a member's client host.</summary>
    public string Host => "/" + (Address.LastIndexOf(':') is var colon and > 0 ? Address[..colon] : Address);
}
