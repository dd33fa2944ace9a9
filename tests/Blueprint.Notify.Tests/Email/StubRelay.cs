using System.Buffers;
using System.Net;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Blueprint.Notify.Tests.Email;

/// <summary>
/// A tiny SMTP server on a free loopback port that refuses mail: every recipient (RCPT answered 550), or every
/// message once sent (DATA answered with a chosen reply, such as 451). It counts the messages it was offered.
/// </summary>
internal sealed class StubRelay : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private int _messages;

    private StubRelay(int port, bool refuseRecipients, SmtpResponse dataReply, TaskCompletionSource listening)
    {
        Port = port;
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, _) => listening.TrySetResult();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new Filter(refuseRecipients));
        services.Add(new Store(this, dataReply));
        var options = new SmtpServerOptionsBuilder()
            .ServerName("stub-relay")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>The relay as <c>host:port</c>, for <c>Notify:SmtpRelay</c>.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>How many messages reached DATA.</summary>
    public int Messages => Volatile.Read(ref _messages);

    /// <summary>A relay that answers 550 to every RCPT TO.</summary>
    public static Task<StubRelay> RefusingRecipientsAsync() => StartAsync(refuseRecipients: true, SmtpResponse.Ok);

    /// <summary>A relay that takes every recipient and answers <paramref name="code"/> after DATA.</summary>
    public static Task<StubRelay> AnsweringDataAsync(int code) =>
        StartAsync(refuseRecipients: false, new SmtpResponse((SmtpReplyCode)code, "stub relay says no"));

    private static async Task<StubRelay> StartAsync(bool refuseRecipients, SmtpResponse dataReply)
    {
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = new StubRelay(FreePorts.Next(), refuseRecipients, dataReply, listening);
        await Task.WhenAny(listening.Task, relay._running).WaitAsync(EmailTestKit.Deadline, TestContext.Current.CancellationToken);
        if (relay._running.IsCompleted)
        {
            await relay._running; // throws why it could not listen
        }

        return relay;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        await _stop.CancelAsync();
        try
        {
            await _running.WaitAsync(EmailTestKit.Deadline);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private sealed class Filter(bool refuseRecipients) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
            Task.FromResult(!refuseRecipients);
    }

    private sealed class Store(StubRelay relay, SmtpResponse reply) : IMessageStore
    {
        public Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref relay._messages);
            return Task.FromResult(reply);
        }
    }
}
