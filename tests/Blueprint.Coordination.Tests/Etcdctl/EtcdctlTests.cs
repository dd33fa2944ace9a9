using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Blueprint.Coordination.Tests.Etcdctl;

/// <summary>Debian's etcdctl 3.4, unchanged, against a three-member cluster started by <c>blueprint cluster up --nodes 3</c>.</summary>
[Collection(Support.ProcessClusters.Name)]
public sealed partial class EtcdctlTests(ThreeMemberCluster fixture) : IClassFixture<ThreeMemberCluster>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private string Endpoints => fixture.Cluster.Endpoints;

    /// <summary>One member only: shows a write through one member is read through another.</summary>
    private string Member(int index) => $"127.0.0.1:{fixture.Cluster.EtcdPorts[index].ToString(CultureInfo.InvariantCulture)}";

    [Fact]
    public async Task The_log_runs_on_every_member_as_one_kafka_cluster_of_three_brokers()
    {
        var kcat = Peers.Require("kcat", "kcat");
        var bootstrap = $"127.0.0.1:{fixture.Cluster.KafkaPorts[0].ToString(System.Globalization.CultureInfo.InvariantCulture)}";

        // The brokers register with the log's metadata quorum as they start: wait until all three are listed.
        await Eventually.TrueAsync(
            async () =>
            {
                await using var listing = ProcessRunner.Start(kcat, ["-b", bootstrap, "-L", "-m", "5"]);
                return await listing.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0 && listing.StandardOutput.Contains(" 3 brokers:", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(60),
            () => "kcat -L never listed 3 brokers",
            TestContext.Current.CancellationToken);

        // A topic produced through one member is replicated three times and read back through another.
        await using (var produce = ProcessRunner.Start(kcat, ["-b", bootstrap, "-P", "-t", "everywhere", "-X", "acks=all"]))
        {
            await produce.WriteStandardInputAsync("one\ntwo\n");
            Assert.Equal(0, await produce.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        var other = $"127.0.0.1:{fixture.Cluster.KafkaPorts[2].ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        await using var consume = ProcessRunner.Start(kcat, ["-b", other, "-C", "-t", "everywhere", "-o", "beginning", "-e", "-f", "%s\n"]);
        Assert.Equal(0, await consume.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(["one", "two"], consume.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        await using var metadata = ProcessRunner.Start(kcat, ["-b", other, "-L", "-t", "everywhere"]);
        Assert.Equal(0, await metadata.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("replicas: ", metadata.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"replicas: \d+,\d+,\d+", metadata.StandardOutput);
    }

    [Fact]
    public async Task The_kv_runs_on_every_member_as_one_redis_cluster_with_replicas()
    {
        var cli = Peers.Require("redis-cli", "redis-tools");
        async Task<string> RedisCliAsync(int member, params string[] command)
        {
            await using var run = ProcessRunner.Start(cli, ["-p", fixture.Cluster.RespPorts[member].ToString(CultureInfo.InvariantCulture), .. command]);
            Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            return run.StandardOutput.Trim();
        }

        // cluster up forms it: every slot served, three primaries, each with a replica on another member.
        await Eventually.TrueAsync(
            async () =>
            {
                var nodes = await RedisCliAsync(0, "cluster", "nodes");
                return (await RedisCliAsync(0, "cluster", "info")).Contains("cluster_state:ok", StringComparison.Ordinal)
                    && nodes.Split('\n').Count(line => line.Contains("master", StringComparison.Ordinal) && !line.Contains("disconnected", StringComparison.Ordinal)) == 3
                    && nodes.Split('\n').Count(line => line.Contains("slave", StringComparison.Ordinal) && !line.Contains("disconnected", StringComparison.Ordinal)) == 3;
            },
            TimeSpan.FromSeconds(60),
            () => "cluster up did not form a KV cluster of three primaries with three replicas",
            TestContext.Current.CancellationToken);
        foreach (var key in new[] { "foo", "bar", "hello" })
        {
            Assert.Equal("OK", await RedisCliAsync(0, "-c", "set", key, key + "!"));
            Assert.Equal(key + "!", await RedisCliAsync(2, "-c", "get", key));
        }
    }

    [Fact]
    public async Task Put_then_get_through_every_member()
    {
        Assert.Equal("OK", (await Etcdctl.OkAsync(Member(1), "put", "pg/greeting", "hello")).Trim());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("pg/greeting\nhello", (await Etcdctl.OkAsync(Member(i), "get", "pg/greeting")).Trim());
        }
    }

    [Fact]
    public async Task Get_with_prefix_lists_keys_in_order_and_nothing_outside_the_prefix()
    {
        await Etcdctl.OkAsync(Endpoints, "put", "pfx/b", "2");
        await Etcdctl.OkAsync(Endpoints, "put", "pfx/a", "1");
        await Etcdctl.OkAsync(Endpoints, "put", "pfy", "outside");
        Assert.Equal("pfx/a\n1\npfx/b\n2", (await Etcdctl.OkAsync(Endpoints, "get", "pfx/", "--prefix")).Trim());
        Assert.Equal("pfx/a\npfx/b", (await Etcdctl.OkAsync(Endpoints, "get", "pfx/", "--prefix", "--keys-only")).Replace("\n\n", "\n").Trim());
    }

    [Fact]
    public async Task Get_at_an_earlier_revision_sees_the_value_then()
    {
        var first = Revision(await Etcdctl.OkAsync(Endpoints, "put", "rev/k", "one", "-w", "json"));
        var second = Revision(await Etcdctl.OkAsync(Endpoints, "put", "rev/k", "two", "-w", "json"));
        Assert.True(second > first);
        Assert.Equal("rev/k\none", (await Etcdctl.OkAsync(Endpoints, "get", "rev/k", $"--rev={first.ToString(CultureInfo.InvariantCulture)}")).Trim());
        Assert.Equal("rev/k\ntwo", (await Etcdctl.OkAsync(Endpoints, "get", "rev/k")).Trim());
    }

    [Fact]
    public async Task Del_reports_the_number_deleted_and_the_key_is_gone()
    {
        await Etcdctl.OkAsync(Endpoints, "put", "del/a", "1");
        await Etcdctl.OkAsync(Endpoints, "put", "del/b", "2");
        Assert.Equal("2", (await Etcdctl.OkAsync(Endpoints, "del", "del/", "--prefix")).Trim());
        Assert.Equal("", (await Etcdctl.OkAsync(Endpoints, "get", "del/", "--prefix")).Trim());
        Assert.Equal("0", (await Etcdctl.OkAsync(Endpoints, "del", "del/a")).Trim());
    }

    [Fact]
    public async Task Txn_takes_the_success_branch_when_the_compare_holds_and_the_failure_branch_otherwise()
    {
        await Etcdctl.OkAsync(Endpoints, "put", "txn/flag", "on");
        var (exit, output, error) = await Etcdctl.RunWithInputAsync(Endpoints, "value(\"txn/flag\") = \"on\"\n\nput txn/result yes\n\nput txn/result no\n\n", "txn");
        Assert.True(exit == 0, error);
        Assert.StartsWith("SUCCESS", output.Trim(), StringComparison.Ordinal);
        Assert.Equal("txn/result\nyes", (await Etcdctl.OkAsync(Endpoints, "get", "txn/result")).Trim());

        (exit, output, error) = await Etcdctl.RunWithInputAsync(Endpoints, "value(\"txn/flag\") = \"off\"\n\nput txn/result yes\n\nput txn/result no\n\n", "txn");
        Assert.True(exit == 0, error);
        Assert.StartsWith("FAILURE", output.Trim(), StringComparison.Ordinal);
        Assert.Equal("txn/result\nno", (await Etcdctl.OkAsync(Endpoints, "get", "txn/result")).Trim());
    }

    [Fact]
    public async Task Watch_sees_puts_and_deletes_in_order()
    {
        await using var watch = Etcdctl.Start(Member(2), "watch", "watch/", "--prefix");
        // The watch is registered before the first write only once etcdctl is connected: write until it reports one.
        using var writes = new CancellationTokenSource(Deadline);
        var writer = Task.Run(async () =>
        {
            while (!writes.IsCancellationRequested && !watch.StandardOutput.Contains("watch/ready", StringComparison.Ordinal))
            {
                await Etcdctl.OkAsync(Member(0), "put", "watch/ready", "1");
                await Task.Delay(200, CancellationToken.None);
            }
        }, TestContext.Current.CancellationToken);
        await watch.WaitForLineAsync(line => line == "watch/ready", Deadline);
        await writes.CancelAsync();
        await writer;

        await Etcdctl.OkAsync(Member(0), "put", "watch/k", "v1");
        await Etcdctl.OkAsync(Member(1), "del", "watch/k");
        await watch.WaitForLineAsync(line => line == "DELETE", Deadline);
        var output = watch.StandardOutput;
        var put = output.IndexOf("PUT\nwatch/k\nv1", StringComparison.Ordinal);
        var delete = output.IndexOf("DELETE\nwatch/k", StringComparison.Ordinal);
        Assert.True(put >= 0 && delete > put, output);
    }

    [Fact]
    public async Task Lease_grant_keep_alive_time_to_live_and_revoke()
    {
        var grant = await Etcdctl.OkAsync(Endpoints, "lease", "grant", "60");
        var id = LeaseId().Match(grant).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(id), grant);
        Assert.Contains($"lease {id} granted with TTL(60s)", grant, StringComparison.Ordinal);

        await Etcdctl.OkAsync(Endpoints, "put", "lease/k", "v", $"--lease={id}");
        Assert.Contains($"lease {id} keepalived with TTL(60)", await Etcdctl.OkAsync(Endpoints, "lease", "keep-alive", "--once", id), StringComparison.Ordinal);
        var ttl = await Etcdctl.OkAsync(Endpoints, "lease", "timetolive", id, "--keys");
        Assert.Contains($"lease {id} granted with TTL(60s), remaining(", ttl, StringComparison.Ordinal);
        Assert.Contains("attached keys([lease/k])", ttl, StringComparison.Ordinal);
        Assert.Contains(id, await Etcdctl.OkAsync(Endpoints, "lease", "list"), StringComparison.Ordinal);

        Assert.Contains($"lease {id} revoked", await Etcdctl.OkAsync(Endpoints, "lease", "revoke", id), StringComparison.Ordinal);
        Assert.Equal("", (await Etcdctl.OkAsync(Endpoints, "get", "lease/k")).Trim());
        Assert.Contains("already expired", await Etcdctl.OkAsync(Endpoints, "lease", "timetolive", id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lease_that_is_not_kept_alive_expires_and_takes_its_keys()
    {
        var grant = await Etcdctl.OkAsync(Endpoints, "lease", "grant", "2");
        var id = LeaseId().Match(grant).Groups[1].Value;
        await Etcdctl.OkAsync(Endpoints, "put", "expire/k", "v", $"--lease={id}");
        await Eventually.ValueAsync(
            async () => (await Etcdctl.OkAsync(Endpoints, "get", "expire/k")).Trim(),
            value => value.Length == 0,
            Deadline,
            value => $"expire/k still there: {value}",
            TestContext.Current.CancellationToken);

        Assert.Contains("already expired", await Etcdctl.OkAsync(Endpoints, "lease", "timetolive", id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lock_runs_a_command_while_holding_the_lock_and_a_second_locker_waits_for_the_first()
    {
        Assert.Equal("held", (await Etcdctl.OkAsync(Endpoints, "lock", "lock/a", "echo", "held")).Trim());

        await using var first = Etcdctl.Start(Member(0), "lock", "lock/b");
        await first.WaitForLineAsync(line => line.StartsWith("lock/b/", StringComparison.Ordinal), Deadline);
        await using var second = Etcdctl.Start(Member(1), "lock", "lock/b");
        // The second locker has registered its key once it appears under the prefix; it must not hold the lock yet.
        await Eventually.ValueAsync(
            async () => (await Etcdctl.OkAsync(Endpoints, "get", "lock/b/", "--prefix", "--keys-only")).Split('\n', StringSplitOptions.RemoveEmptyEntries),
            keys => keys.Length >= 2,
            Deadline,
            keys => $"the second locker's key did not appear: [{string.Join(", ", keys)}]",
            TestContext.Current.CancellationToken);

        Assert.DoesNotContain("lock/b/", second.StandardOutput, StringComparison.Ordinal);
        first.Interrupt(); // etcdctl releases the lock on Ctrl-C
        await second.WaitForLineAsync(line => line.StartsWith("lock/b/", StringComparison.Ordinal), Deadline);
        second.Interrupt();
    }

    [Fact]
    public async Task Elect_campaigns_and_an_observer_sees_the_leader_and_its_successor()
    {
        await using var observer = Etcdctl.Start(Member(2), "elect", "-l", "elect/e");
        await using var first = Etcdctl.Start(Member(0), "elect", "elect/e", "alpha");
        await first.WaitForLineAsync(line => line == "alpha", Deadline);
        await observer.WaitForLineAsync(line => line == "alpha", Deadline);

        await using var second = Etcdctl.Start(Member(1), "elect", "elect/e", "beta");
        first.Interrupt(); // resigns
        await second.WaitForLineAsync(line => line == "beta", Deadline);
        await observer.WaitForLineAsync(line => line == "beta", Deadline);
        second.Interrupt();
    }

    [Fact]
    public async Task Member_list_shows_three_started_members_with_their_urls()
    {
        var lines = (await Etcdctl.OkAsync(Endpoints, "member", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (var i = 0; i < 3; i++)
        {
            var name = $"n{(i + 1).ToString(CultureInfo.InvariantCulture)}";
            var line = Assert.Single(lines, line => line.Contains($", {name}, ", StringComparison.Ordinal));
            Assert.Contains("started", line, StringComparison.Ordinal);
            Assert.Contains($"http://127.0.0.1:{(fixture.Cluster.EtcdPorts[i] + 1).ToString(CultureInfo.InvariantCulture)}", line, StringComparison.Ordinal);
            Assert.Contains($"http://127.0.0.1:{fixture.Cluster.EtcdPorts[i].ToString(CultureInfo.InvariantCulture)}", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Member_add_lists_an_unstarted_member_and_member_remove_takes_it_out()
    {
        var peerPort = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
        var added = await Etcdctl.OkAsync(Endpoints, "member", "add", "n4", $"--peer-urls=http://127.0.0.1:{peerPort}");
        var id = MemberAdded().Match(added).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(id), added);
        try
        {
            Assert.Contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"", added, StringComparison.Ordinal);

            // Four voters, three running: a majority of four is three, so the cluster still commits.
            var lines = (await Etcdctl.OkAsync(Endpoints, "member", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
            Assert.Contains(lines, line => line.StartsWith($"{id}, unstarted, , http://127.0.0.1:{peerPort}", StringComparison.Ordinal));
            Assert.Equal("OK", (await Etcdctl.OkAsync(Endpoints, "put", "members/k", "v")).Trim());
        }
        finally
        {
            Assert.Matches($@"Member\s+{id} removed from cluster", await Etcdctl.OkAsync(Endpoints, "member", "remove", id));
        }

        Assert.Equal(3, (await Etcdctl.OkAsync(Endpoints, "member", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("member not found", (await Etcdctl.RunAsync(Endpoints, "member", "remove", id)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoint_status_names_one_leader_and_endpoint_health_is_healthy()
    {
        var status = await Etcdctl.OkAsync(Endpoints, "endpoint", "status", "-w", "json");
        using var json = JsonDocument.Parse(status);
        var members = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, members.Count);
        var leaders = members.Select(member => member.GetProperty("Status").GetProperty("leader").GetUInt64()).Distinct().ToList();
        Assert.Single(leaders);
        Assert.Contains(members, member => member.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64() == leaders[0]);
        Assert.All(members, member => Assert.Equal("3.4.0", member.GetProperty("Status").GetProperty("version").GetString()));

        // etcdctl 3.4 prints the health lines on standard error.
        var (exit, output, error) = await Etcdctl.RunAsync(Endpoints, "endpoint", "health");
        Assert.True(exit == 0, error);
        Assert.Equal(3, Regex.Count(output + error, "is healthy: successfully committed proposal"));
    }

    private static long Revision(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }

    [GeneratedRegex(@"Member\s+([0-9a-f]+) added to cluster")]
    private static partial Regex MemberAdded();

    [GeneratedRegex("lease ([0-9a-f]+) granted")]
    private static partial Regex LeaseId();
}
