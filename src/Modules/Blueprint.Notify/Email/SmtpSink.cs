using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Blueprint.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Blueprint.Notify.Email;

/// <summary>
/// The embedded SMTP sink (what MailHog is for development): an SMTP server on the node's bind address and
/// <c>Notify:SmtpPort</c> that accepts any sender and recipient, refuses messages over <see cref="MessageBytesMax"/>
/// with 552, and keeps what it accepts in the <see cref="Mailbox"/>. Not started when the port is 0. A stop closes
/// the port and waits for the sessions; a message cut off mid-transfer was never acknowledged, so its sender retries.
/// </summary>
internal sealed partial class SmtpSink(
    IOptions<NotifyOptions> notifyOptions,
    IOptions<NodeOptions> nodeOptions,
    Mailbox mailbox,
    ILogger<SmtpSink> logger) : IHostedService, IDisposable
{
    /// <summary>The largest message accepted: 10 MiB. Announced in EHLO (SIZE); more is refused with 552.</summary>
    public const int MessageBytesMax = 10 * 1024 * 1024;

    /// <summary>The name the sink greets with.</summary>
    public const string ServerName = "blueprint";

    private SmtpServer.SmtpServer? _server;
    private CancellationTokenSource? _abort;
    private Task? _running;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var port = notifyOptions.Value.SmtpPort;
        if (port == 0)
        {
            return;
        }

        var node = nodeOptions.Value;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, _) => listening.TrySetResult();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new MailboxStore(mailbox, logger));
        var options = new SmtpServerOptionsBuilder()
            .ServerName(ServerName)
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(node.BindAddress, port)))
            .MaxMessageSize(MessageBytesMax, MaxMessageSizeHandling.Strict)
            .Build();
        _server = new SmtpServer.SmtpServer(options, services);
        _server.SessionFaulted += (_, e) => LogSessionFaulted(logger, e.Exception.Message);
        _abort = new CancellationTokenSource();
        _running = _server.StartAsync(_abort.Token);
        if (await Task.WhenAny(listening.Task, _running).WaitAsync(cancellationToken).ConfigureAwait(false) == _running)
        {
            try
            {
                await _running.ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw StartupProblemException.PortInUse(NotifyModule.SmtpListener.Name, node.Bind, port, NotifyModule.SmtpListener.Flag!, e);
            }

            throw new InvalidOperationException("the SMTP sink stopped as it started");
        }

        LogStarted(logger, node.ClientHost, port, mailbox.Count);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null || _running is null)
        {
            return;
        }

        _server.Shutdown();
        try
        {
            await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time: cut the sessions still open.
            await _abort!.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The server ends its sessions by cancelling them.
        }

        LogStopped(logger);
    }

    /// <inheritdoc />
    public void Dispose() => _abort?.Dispose();

    /// <summary>Stores what the sink accepts in the mailbox; a message that cannot be written is refused with 452 (try later).</summary>
    private sealed class MailboxStore(Mailbox mailbox, ILogger logger) : IMessageStore
    {
        public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var from = transaction.From is { User.Length: > 0 } sender ? MailboxExtensionMethods.AsAddress(sender) : "";
            var to = transaction.To.Select(MailboxExtensionMethods.AsAddress).ToList();
            try
            {
                var entry = await mailbox.AddAsync(from, to, buffer, cancellationToken).ConfigureAwait(false);
                return new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 Ok: queued as {entry.Id}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogStoreFailed(logger, e.Message);
                return new SmtpResponse(SmtpReplyCode.InsufficientStorage, "4.3.1 the mailbox cannot store the message now");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SMTP sink listening on {Host}:{Port} ({Messages} message(s) in the mailbox)")]
    private static partial void LogStarted(ILogger logger, string host, int port, int messages);

    [LoggerMessage(Level = LogLevel.Information, Message = "SMTP sink stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SMTP sink session faulted: {Reason}")]
    private static partial void LogSessionFaulted(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SMTP sink could not store a message: {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string reason);
}
