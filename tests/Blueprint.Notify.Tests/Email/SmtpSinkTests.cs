using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailKit.Net.Smtp;
using MimeKit;

namespace Blueprint.Notify.Tests.Email;

public sealed class SmtpSinkTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Swaks_SendsToTheSink_AndTheApiListsIt()
    {
        var swaks = Peers.Require("swaks", "swaks");
        await using var node = await EmailTestKit.StartNodeAsync();

        await using var process = ProcessRunner.Start(swaks,
        [
            "--server", $"127.0.0.1:{node.SmtpPort()}", "--from", "alice@example.com", "--to", "bob@example.org",
            "--header", "Subject: Quarterly report", "--body", "The numbers are in.",
        ]);
        Assert.Equal(0, await process.WaitForExitAsync(EmailTestKit.Deadline));

        var listed = Assert.Single(await node.MailboxAsync());
        Assert.Equal("Quarterly report", listed.Subject);
        Assert.Equal("alice@example.com", listed.From);
        Assert.Equal(["bob@example.org"], listed.To);
        Assert.Contains($"queued as {listed.Id}", process.StandardOutput, StringComparison.Ordinal);
        var message = await node.MessageAsync(listed.Id);
        Assert.Equal("The numbers are in.", message.Text?.Trim());
        Assert.Null(message.Html);
        Assert.Equal("<alice@example.com>", message.Header("Return-Path"));
        Assert.Equal("bob@example.org", message.Header("Delivered-To"));
    }

    [Fact]
    public async Task MailKit_HtmlAndText_BothBodiesComeBack()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        var body = new BodyBuilder { TextBody = "Plain words.", HtmlBody = "<p>Rich <b>words</b>.</p>" };
        var sent = new MimeMessage { Subject = "Zwei Teile — two parts", Body = body.ToMessageBody() };
        sent.From.Add(new MailboxAddress("Carol", "carol@example.com"));
        sent.To.Add(new MailboxAddress("Dan", "dan@example.net"));
        sent.Cc.Add(new MailboxAddress("Erin", "erin@example.net"));

        await EmailTestKit.SendAsync(node.SmtpPort(), sent);

        var listed = Assert.Single(await node.MailboxAsync());
        Assert.Equal("Zwei Teile — two parts", listed.Subject);
        Assert.Equal(["dan@example.net", "erin@example.net"], listed.To);
        var message = await node.MessageAsync(listed.Id);
        Assert.Equal("Plain words.", message.Text);
        Assert.Equal("<p>Rich <b>words</b>.</p>", message.Html);
        Assert.Equal(sent.MessageId, message.Header("Message-Id")?.Trim('<', '>'));

        var raw = await MimeMessage.LoadAsync(new MemoryStream(await node.RawAsync(listed.Id)), Token);
        Assert.Equal(sent.Subject, raw.Subject);
        Assert.Equal("<p>Rich <b>words</b>.</p>", raw.HtmlBody);
        Assert.Equal(listed.Size, (await node.RawAsync(listed.Id)).Length);
    }

    [Fact]
    public async Task ToFilter_ListsOnlyThatRecipientsMessages_NewestFirst()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("a@example.com", "one@example.com", "first", "1"));
        await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("a@example.com", "two@example.com", "second", "2"));
        await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("a@example.com", "one@example.com", "third", "3"));

        Assert.Equal(["third", "second", "first"], (await node.MailboxAsync()).Select(mail => mail.Subject));
        Assert.Equal(["third", "first"], (await node.MailboxAsync(to: "ONE@example.com")).Select(mail => mail.Subject));
        Assert.Empty(await node.MailboxAsync(to: "nobody@example.com"));
    }

    [Fact]
    public async Task OversizedMessage_IsRefusedWith552_AndNotStored()
    {
        var swaks = Peers.Require("swaks", "swaks");
        await using var node = await EmailTestKit.StartNodeAsync();
        using var directory = new TempDirectory();
        var bodyFile = Path.Combine(directory.Path, "body.txt");
        var line = new string('x', 998) + "\r\n";
        await File.WriteAllTextAsync(bodyFile, string.Concat(Enumerable.Repeat(line, (11 * 1024 * 1024 / line.Length) + 1)), Token);

        await using var process = ProcessRunner.Start(swaks,
        [
            "--server", $"127.0.0.1:{node.SmtpPort()}", "--from", "big@example.com", "--to", "bob@example.org",
            "--body", "@" + bodyFile, "--suppress-data",
        ]);
        var exit = await process.WaitForExitAsync(EmailTestKit.Deadline);

        Assert.NotEqual(0, exit);
        Assert.Contains("<** 552", process.StandardOutput + process.StandardError, StringComparison.Ordinal);
        Assert.Empty(await node.MailboxAsync());
    }

    [Fact]
    public async Task OversizedMessage_AnnouncedWithSize_IsRefusedWith552AtMailFrom()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        var big = EmailTestKit.Message("big@example.com", "bob@example.org", "too big", new string('y', 11 * 1024 * 1024));

        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => EmailTestKit.SendAsync(node.SmtpPort(), big));

        Assert.Equal(552, (int)refused.StatusCode);
        Assert.Empty(await node.MailboxAsync());
    }

    [Fact]
    public async Task Mailbox_KeepsOnlyTheNewestUpToItsLimit()
    {
        await using var node = await EmailTestKit.StartNodeAsync(new() { ["Notify:MailboxLimit"] = "3" });
        for (var i = 1; i <= 5; i++)
        {
            await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("a@example.com", "b@example.com", $"m{i}", $"body {i}"));
        }

        var listed = await node.MailboxAsync();
        Assert.Equal(["m5", "m4", "m3"], listed.Select(mail => mail.Subject));
        var files = Directory.GetFiles(Path.Combine(node.DataDir, "notify", "mailbox")).Select(Path.GetFileNameWithoutExtension).Order();
        Assert.Equal(listed.Select(mail => mail.Id).Order(), files);
    }

    [Fact]
    public async Task Mailbox_SurvivesARestart()
    {
        using var data = new TempDirectory();
        List<MailSummary> before;
        byte[] raw;
        await using (var node = await EmailTestKit.StartNodeAsync(dataDir: data.Path))
        {
            await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("a@example.com", "b@example.com", "kept one", "1"));
            await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("z@example.com", "c@example.com", "kept two", "2"));
            before = await node.MailboxAsync();
            raw = await node.RawAsync(before[0].Id);
        }

        await using var restarted = await EmailTestKit.StartNodeAsync(dataDir: data.Path);

        var after = await restarted.MailboxAsync();
        Assert.Equal(before, after, MailSummaryComparer.Instance);
        Assert.Equal(raw, await restarted.RawAsync(after[0].Id));
        await EmailTestKit.SendAsync(restarted.SmtpPort(), EmailTestKit.Message("a@example.com", "b@example.com", "after restart", "3"));
        Assert.Equal(["after restart", "kept two", "kept one"], (await restarted.MailboxAsync()).Select(mail => mail.Subject));
    }

    [Fact]
    public async Task UnknownId_Is404ProblemJson_WithAReason()
    {
        await using var node = await EmailTestKit.StartNodeAsync();

        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/api/notify/mailbox/0000000000000001"),
            new HttpRequestMessage(HttpMethod.Get, "/api/notify/mailbox/0000000000000001/raw"),
            new HttpRequestMessage(HttpMethod.Delete, "/api/notify/mailbox/0000000000000001"),
        })
        {
            using (request)
            {
                using var response = await node.Http.SendAsync(request, Token);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Token);
                Assert.Equal(404, problem.GetProperty("status").GetInt32());
                Assert.Contains("no message '0000000000000001'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Delete_RemovesOneMessage_AndClear_RemovesAll()
    {
        await using var node = await EmailTestKit.StartNodeAsync();
        for (var i = 1; i <= 3; i++)
        {
            await EmailTestKit.SendAsync(node.SmtpPort(), EmailTestKit.Message("a@example.com", "b@example.com", $"m{i}", "x"));
        }

        var listed = await node.MailboxAsync();
        using (var deleted = await node.Http.DeleteAsync(new Uri($"/api/notify/mailbox/{listed[1].Id}", UriKind.Relative), Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(["m3", "m1"], (await node.MailboxAsync()).Select(mail => mail.Subject));
        using (var missing = await node.Http.GetAsync(new Uri($"/api/notify/mailbox/{listed[1].Id}", UriKind.Relative), Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var cleared = await node.Http.DeleteAsync(new Uri("/api/notify/mailbox", UriKind.Relative), Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        }

        Assert.Empty(await node.MailboxAsync());
        Assert.Empty(Directory.GetFiles(Path.Combine(node.DataDir, "notify", "mailbox")));
    }

    /// <summary>Two listings are equal when every field is (the recipient lists by content).</summary>
    private sealed class MailSummaryComparer : IEqualityComparer<MailSummary>
    {
        public static readonly MailSummaryComparer Instance = new();

        public bool Equals(MailSummary? x, MailSummary? y) =>
            x is not null && y is not null && x.Id == y.Id && x.From == y.From && x.To.SequenceEqual(y.To)
            && x.Subject == y.Subject && x.Received == y.Received && x.Size == y.Size;

        public int GetHashCode(MailSummary obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
