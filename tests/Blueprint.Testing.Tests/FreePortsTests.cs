using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Blueprint.Testing.Tests;

public sealed class FreePortsTests
{
    [Fact]
    public void Ports_come_from_below_the_ephemeral_range()
    {
        // Read independently of FreePorts: where the kernel picks ports for outgoing connections.
        var ephemeralStart = File.Exists(FreePorts.EphemeralRangeFile)
            ? int.Parse(File.ReadAllText(FreePorts.EphemeralRangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture)
            : 32_768;
        Assert.SkipWhen(ephemeralStart - 20_000 < 1_000, $"the ephemeral range starts at {ephemeralStart}: no room below it");

        var ports = Enumerable.Range(0, 50).Select(_ => FreePorts.Next()).Append(FreePorts.Block(4) + 3).ToList();

        Assert.All(ports, port => Assert.InRange(port, 20_000, ephemeralStart - 1));
    }

    [Theory]
    [InlineData("32768\t60999\n", 20_000, 32_767)]
    [InlineData("40000 60999", 20_000, 39_999)]
    [InlineData(null, 20_000, 32_767)]
    [InlineData("", 20_000, 32_767)]
    [InlineData("nonsense", 20_000, 32_767)]
    [InlineData("1024 50000", 50_001, 65_535)]
    public void The_range_is_read_from_the_kernel_range_or_falls_back(string? ephemeralRange, int lowest, int highest) =>
        Assert.Equal((lowest, highest), FreePorts.RangeOutsideEphemeral(ephemeralRange));

    [Fact]
    public void A_port_whose_lock_another_holder_has_is_not_handed()
    {
        using var folder = new TempDirectory("ports-test");
        var first = FreePorts.Block(3); // free and held in the shared folder: bindable, and unlocked in this test's folder
        var pool = new PortPool(first, first + 2, folder.Path);

        int[] handed;
        using (TakeLock(folder.Path, first + 1))
        {
            handed = [pool.Next(), pool.Next()];
            Assert.Throws<InvalidOperationException>(() => pool.Next());
        }

        Assert.Equal([first, first + 2], handed.Order());
        Assert.Equal(first + 1, pool.Next()); // released by its holder
    }

    [Fact]
    public async Task A_port_locked_by_another_process_is_not_handed_until_that_process_ends()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/flock"), "needs flock(1) to hold a lock from another process");
        using var folder = new TempDirectory("ports-test");
        var port = FreePorts.Next();
        var pool = new PortPool(port, port, folder.Path);

        // --close: only flock itself holds the lock, so it is gone once flock has exited.
        var holder = ProcessRunner.Start("/usr/bin/flock", ["--exclusive", "--close", Path.Combine(folder.Path, $"{port}.lock"), "sh", "-c", "echo locked; exec sleep 60"]);
        await using (holder)
        {
            await holder.WaitForLineAsync(line => line == "locked", TimeSpan.FromSeconds(10));
            Assert.Throws<InvalidOperationException>(() => pool.Next());
        }

        Assert.Equal(port, pool.Next());
    }

    [Fact]
    public void A_port_that_does_not_bind_is_not_handed()
    {
        using var folder = new TempDirectory("ports-test");
        var first = FreePorts.Block(2);
        var pool = new PortPool(first, first + 1, folder.Path);
        using var listener = new TcpListener(IPAddress.Loopback, first);
        listener.Start();

        Assert.Equal(first + 1, pool.Next());
        Assert.Throws<InvalidOperationException>(() => pool.Next());
    }

    [Fact]
    public void Block_returns_consecutive_ports_that_bind_and_stay_reserved()
    {
        var first = FreePorts.Block(5);

        for (var port = first; port < first + 5; port++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            Assert.Throws<IOException>(() => TakeLock(FreePorts.Pool.Folder, port));
        }
    }

    [Fact]
    public void A_block_is_handed_only_when_every_port_in_it_is_free()
    {
        using var folder = new TempDirectory("ports-test");
        var first = FreePorts.Block(4);
        var pool = new PortPool(first, first + 3, folder.Path);

        using (TakeLock(folder.Path, first + 2))
        {
            // Blocks of three: first..first+2 and first+1..first+3 both hold the locked port.
            Assert.Throws<InvalidOperationException>(() => pool.Block(3));
            Assert.Equal(first, pool.Block(2)); // the only block of two without it
        }

        Assert.Equal(first + 2, pool.Block(2)); // released; first and first+1 are handed already
    }

    [Fact]
    public void No_port_is_handed_twice()
    {
        var ports = new List<int>();
        for (var i = 0; i < 200; i++)
        {
            ports.Add(FreePorts.Next());
            if (i % 20 == 0)
            {
                var first = FreePorts.Block(3);
                ports.AddRange([first, first + 1, first + 2]);
            }
        }

        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    [Fact]
    public void A_small_pool_hands_every_port_once_then_refuses()
    {
        using var folder = new TempDirectory("ports-test");
        var first = FreePorts.Block(10);
        var pool = new PortPool(first, first + 9, folder.Path);

        var handed = Enumerable.Range(0, 10).Select(_ => pool.Next()).Order().ToList();

        Assert.Equal(Enumerable.Range(first, 10), handed);
        var refused = Assert.Throws<InvalidOperationException>(() => pool.Next());
        Assert.Contains($"{first}-{first + 9}", refused.Message, StringComparison.Ordinal);
    }

    private static FileStream TakeLock(string folder, int port) =>
        new(Path.Combine(folder, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.Read, FileShare.None);
}
