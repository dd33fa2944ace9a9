using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Blueprint.Log.Broker;
using Blueprint.Log.Tests.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Log.Tests.Http;

/// <summary>The HTTP API and <see cref="IEventLog"/> over the same topics Kafka clients see.</summary>
public sealed class HttpAndInProcessTests
{
    [Fact]
    public async Task Topics_are_created_listed_described_and_deleted_over_http()
    {
        await using var node = await LogNode.StartAsync();
        var http = node.Node.Http;
        var token = TestContext.Current.CancellationToken;

        var created = await http.PostAsJsonAsync("/api/log/topics", new { name = "audit", partitions = 3, configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" } }, token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var again = await http.PostAsJsonAsync("/api/log/topics", new { name = "audit", partitions = 3 }, token);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var badConfig = await http.PostAsJsonAsync("/api/log/topics", new { name = "other", configs = new Dictionary<string, string> { ["retention.ms"] = "soon" } }, token);
        Assert.Equal(HttpStatusCode.BadRequest, badConfig.StatusCode);
        Assert.Contains("retention.ms", await badConfig.Content.ReadAsStringAsync(token), StringComparison.Ordinal);

        using var detail = JsonDocument.Parse(await http.GetStringAsync("/api/log/topics/audit", token));
        Assert.Equal(3, detail.RootElement.GetProperty("partitions").GetArrayLength());
        Assert.Equal("compact", detail.RootElement.GetProperty("configs").GetProperty("cleanup.policy").GetString());

        var metadata = await node.KcatAsync(null, "-L", "-t", "audit");
        Assert.Contains("topic \"audit\" with 3 partitions", metadata, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/log/topics/audit", token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/log/topics/audit", token)).StatusCode);
    }

    [Fact]
    public async Task Records_appended_over_http_are_read_by_kcat_and_kcats_are_read_over_http()
    {
        await using var node = await LogNode.StartAsync();
        var http = node.Node.Http;
        var token = TestContext.Current.CancellationToken;
        await http.PostAsJsonAsync("/api/log/topics", new { name = "mixed", partitions = 1 }, token);

        var appended = await http.PostAsJsonAsync("/api/log/topics/mixed/records", new { records = new[] { new { key = "a", value = "from http" }, new { key = "b", value = "second" } } }, token);
        Assert.Equal(HttpStatusCode.OK, appended.StatusCode);
        await node.KcatAsync("c:from kcat\n", "-P", "-t", "mixed", "-K:");

        var consumed = await node.KcatAsync(null, "-C", "-t", "mixed", "-o", "beginning", "-e", "-f", "%k=%s@%o\n");
        Assert.Equal(["a=from http@0", "b=second@1", "c=from kcat@2"], consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        using var records = JsonDocument.Parse(await http.GetStringAsync("/api/log/topics/mixed/partitions/0/records?offset=1&limit=5", token));
        Assert.Equal(["second", "from kcat"], records.RootElement.EnumerateArray().Select(record => record.GetProperty("value").GetString()));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await http.GetAsync("/api/log/topics/mixed/partitions/0/records?offset=99", token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/log/topics/mixed/partitions/4/records", token)).StatusCode);
    }

    [Fact]
    public async Task The_in_process_log_partitions_by_key_as_kafka_does_and_keeps_committed_offsets()
    {
        await using var node = await LogNode.StartAsync();
        var log = node.Node.Node.Services.GetRequiredService<IEventLog>();
        var token = TestContext.Current.CancellationToken;
        await log.EnsureTopicAsync("orders", 4, cancellationToken: token);
        await log.EnsureTopicAsync("orders", 4, cancellationToken: token);

        var key = Encoding.UTF8.GetBytes("customer-42");
        var first = await log.AppendAsync("orders", [new LogMessage(key, "created"u8.ToArray())], cancellationToken: token);
        var second = await log.AppendAsync("orders", [new LogMessage(key, "paid"u8.ToArray()), new LogMessage(key, "shipped"u8.ToArray())], cancellationToken: token);

        Assert.Equal(Blueprint.Core.Hashing.Murmur2.Partition(key, 4), first.Partition);
        Assert.Equal(first.Partition, second.Partition);
        Assert.Equal((1L, 2L), (second.BaseOffset, second.LastOffset));

        var read = await log.ReadAsync("orders", first.Partition, 1, 10, TimeSpan.Zero, token);
        Assert.Equal(["paid", "shipped"], read.Select(entry => Encoding.UTF8.GetString(entry.Value!)));

        // A read at the end waits for the next append.
        var waiting = log.ReadAsync("orders", first.Partition, 3, 10, TimeSpan.FromSeconds(30), token).AsTask();
        Assert.False(waiting.IsCompleted);
        await log.AppendAsync("orders", [new LogMessage(key, "delivered"u8.ToArray())], cancellationToken: token);
        Assert.Equal("delivered", Encoding.UTF8.GetString(Assert.Single(await waiting).Value!));

        Assert.Null(log.Committed("billing", "orders", first.Partition));
        await log.CommitAsync("billing", "orders", first.Partition, 3, token);
        Assert.Equal(3, log.Committed("billing", "orders", first.Partition));

        // Kafka clients see the same topic and the same records.
        var consumed = await node.KcatAsync(null, "-C", "-t", "orders", "-p", first.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "beginning", "-e", "-f", "%k=%s\n");
        Assert.Equal(["customer-42=created", "customer-42=paid", "customer-42=shipped", "customer-42=delivered"], consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_read_past_a_compacted_hole_goes_on_at_the_next_batch_not_at_the_end()
    {
        await using var node = await LogNode.StartAsync();
        var log = (EventLog)node.Node.Node.Services.GetRequiredService<IEventLog>();
        var token = TestContext.Current.CancellationToken;
        // Below one batch header a segment cannot hold a batch: refused as a config error, not a failure to open.
        var tooSmall = await Assert.ThrowsAsync<ArgumentException>(async () => await log.EnsureTopicAsync("profiles", 1, new Dictionary<string, string> { ["segment.bytes"] = "60" }, token));
        Assert.Contains("segment.bytes", tooSmall.Message, StringComparison.Ordinal);
        await log.EnsureTopicAsync("profiles", 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["segment.bytes"] = "128" }, token);
        static LogMessage Message(string key, string value) => new(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));

        // Offsets 0-2 in one batch, 3 and 4 in batches of their own; "c" at 2 is superseded by 3.
        await log.AppendAsync("profiles", [Message("a", "1"), Message("b", "1"), Message("c", "1")], 0, token);
        await log.AppendAsync("profiles", [Message("c", "2")], 0, token);
        await log.AppendAsync("profiles", [Message("d", "1")], 0, token);
        var broker = node.Node.Node.Services.GetRequiredService<LogBroker>();
        Assert.True(broker.Topics.TryGet("profiles", out var topic));
        await topic.Partitions[0].Log.CleanAsync(token);

        // One batch per read: from offset 2, the first batch (0-2) now holds only 0 and 1.
        log.ReadBytesMax = 1;
        var read = await log.ReadAsync("profiles", 0, 2, 10, TimeSpan.Zero, token);
        Assert.Equal([(3L, "c=2")], read.Select(entry => (entry.Offset, $"{Encoding.UTF8.GetString(entry.Key!)}={Encoding.UTF8.GetString(entry.Value!)}")));
    }
}
