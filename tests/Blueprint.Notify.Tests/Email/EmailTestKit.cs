using System.Globalization;
using System.Net.Http.Json;
using MailKit.Net.Smtp;
using MimeKit;

namespace Blueprint.Notify.Tests.Email;

/// <summary>Nodes with the SMTP sink on a free port, and the mailbox API and an SMTP client to talk to them.</summary>
internal static class EmailTestKit
{
    public const string SmtpPortKey = "Notify:SmtpPort";

    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A node whose sink listens on a free port (TestNode gives optional listeners none: left alone, every node would
    /// take the default 2525).
    /// </summary>
    public static Task<TestNode> StartNodeAsync(Dictionary<string, string?>? settings = null, string? dataDir = null)
    {
        settings ??= [];
        settings.TryAdd(SmtpPortKey, FreePorts.Next().ToString(CultureInfo.InvariantCulture));
        return TestNode.StartAsync(dataDir, settings, TestContext.Current.CancellationToken);
    }

    public static int SmtpPort(this TestNode node) => node.PortOf(SmtpPortKey);

    public static async Task<List<MailSummary>> MailboxAsync(this TestNode node, string? to = null)
    {
        var path = to is null ? "/api/notify/mailbox" : $"/api/notify/mailbox?to={Uri.EscapeDataString(to)}";
        return (await node.Http.GetFromJsonAsync<List<MailSummary>>(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken))!;
    }

    public static async Task<MailDetail> MessageAsync(this TestNode node, string id) =>
        (await node.Http.GetFromJsonAsync<MailDetail>(new Uri($"/api/notify/mailbox/{id}", UriKind.Relative), TestContext.Current.CancellationToken))!;

    public static async Task<byte[]> RawAsync(this TestNode node, string id)
    {
        using var response = await node.Http.GetAsync(new Uri($"/api/notify/mailbox/{id}/raw", UriKind.Relative), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("message/rfc822", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Sends with MailKit and returns the server's final reply.</summary>
    public static async Task<string> SendAsync(int port, MimeMessage message)
    {
        using var client = new SmtpClient { Timeout = (int)Deadline.TotalMilliseconds };
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None, TestContext.Current.CancellationToken);
        var reply = await client.SendAsync(message, TestContext.Current.CancellationToken);
        await client.DisconnectAsync(quit: true, TestContext.Current.CancellationToken);
        return reply;
    }

    public static MimeMessage Message(string from, string to, string subject, string text)
    {
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = text } };
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        return message;
    }
}

internal sealed record MailSummary(string Id, string From, List<string> To, string Subject, DateTimeOffset Received, long Size);

internal sealed record MailHeader(string Name, string Value);

internal sealed record MailDetail(
    string Id, string From, List<string> To, string Subject, DateTimeOffset Received, long Size, List<MailHeader> Headers, string? Text, string? Html)
{
    public string? Header(string name) => Headers.FirstOrDefault(header => string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase))?.Value;
}
