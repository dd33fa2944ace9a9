using System.Globalization;

namespace Blueprint.Log.Tests.Kafka;

/// <summary>Debian's kcat (librdkafka) against the log: metadata, produce, consume by offset and timestamp, groups, compression.</summary>
public sealed class KcatTests
{
    [Fact]
    public async Task Metadata_lists_the_broker_and_an_auto_created_topic()
    {
        await using var node = await LogNode.StartAsync();
        await node.KcatAsync("a:1\n", "-P", "-t", "orders", "-K:");

        var metadata = await node.KcatAsync(null, "-L", "-t", "orders");

        Assert.Contains($"broker 1 at 127.0.0.1:{node.KafkaPort.ToString(CultureInfo.InvariantCulture)}", metadata, StringComparison.Ordinal);
        Assert.Contains("topic \"orders\" with 1 partitions", metadata, StringComparison.Ordinal);
        Assert.Contains("partition 0, leader 1, replicas: 1, isrs: 1", metadata, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Produced_records_come_back_in_order_with_keys_and_offsets()
    {
        await using var node = await LogNode.StartAsync();
        var lines = Enumerable.Range(0, 50).Select(i => $"k{i % 5}:value-{i}").ToList();
        await node.KcatAsync(string.Join('\n', lines) + "\n", "-P", "-t", "events", "-K:");

        var consumed = await node.KcatAsync(null, "-C", "-t", "events", "-o", "beginning", "-e", "-f", "%k=%s@%o\n");

        var expected = lines.Select((line, offset) => $"{line.Replace(':', '=')}@{offset}");
        Assert.Equal(expected, consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Consume_starts_at_an_offset_and_at_a_timestamp()
    {
        await using var node = await LogNode.StartAsync();
        for (var round = 0; round < 3; round++)
        {
            var batch = string.Concat(Enumerable.Range(0, 4).Select(i => $"r{round}-{i}\n"));
            await node.KcatAsync(batch, "-P", "-t", "timeline");
        }

        var fromOffset = await node.KcatAsync(null, "-C", "-t", "timeline", "-o", "5", "-e", "-f", "%s\n");
        Assert.Equal(["r1-1", "r1-2", "r1-3", "r2-0", "r2-1", "r2-2", "r2-3"], fromOffset.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var stamped = (await node.KcatAsync(null, "-C", "-t", "timeline", "-o", "beginning", "-e", "-f", "%T %o\n"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Select(parts => (Timestamp: long.Parse(parts[0], CultureInfo.InvariantCulture), Offset: long.Parse(parts[1], CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(12, stamped.Count);
        var pivot = stamped[6].Timestamp;
        var firstAtPivot = stamped.First(record => record.Timestamp >= pivot).Offset;

        var fromTime = await node.KcatAsync(null, "-C", "-t", "timeline", "-o", $"s@{pivot.ToString(CultureInfo.InvariantCulture)}", "-e", "-f", "%o\n");

        Assert.Equal(
            Enumerable.Range((int)firstAtPivot, 12 - (int)firstAtPivot).Select(offset => offset.ToString(CultureInfo.InvariantCulture)),
            fromTime.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Compressed_batches_round_trip(string codec)
    {
        await using var node = await LogNode.StartAsync();
        var lines = Enumerable.Range(0, 200).Select(i => $"{codec}-record-{i}-{new string('x', i % 37)}").ToList();
        await node.KcatAsync(string.Join('\n', lines) + "\n", "-P", "-t", "packed", "-z", codec);

        var consumed = await node.KcatAsync(null, "-C", "-t", "packed", "-o", "beginning", "-e", "-f", "%s\n");

        Assert.Equal(lines, consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_consumer_group_resumes_after_its_committed_offsets()
    {
        await using var node = await LogNode.StartAsync();
        await node.KcatAsync("one\ntwo\nthree\n", "-P", "-t", "jobs");

        var first = await node.KcatAsync(null, "-G", "workers", "-X", "auto.offset.reset=earliest", "-e", "-f", "%s\n", "jobs");
        Assert.Equal(["one", "two", "three"], first.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        await node.KcatAsync("four\nfive\n", "-P", "-t", "jobs");
        var second = await node.KcatAsync(null, "-G", "workers", "-X", "auto.offset.reset=earliest", "-e", "-f", "%s\n", "jobs");

        Assert.Equal(["four", "five"], second.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Records_survive_a_restart()
    {
        using var data = new TempDirectory("blueprint-log");
        await using (var node = await LogNode.StartAsync(data.Path))
        {
            await node.KcatAsync("a\nb\nc\n", "-P", "-t", "durable");
        }

        await using var restarted = await LogNode.StartAsync(data.Path);
        await restarted.KcatAsync("d\n", "-P", "-t", "durable");

        var consumed = await restarted.KcatAsync(null, "-C", "-t", "durable", "-o", "beginning", "-e", "-f", "%s@%o\n");
        Assert.Equal(["a@0", "b@1", "c@2", "d@3"], consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
