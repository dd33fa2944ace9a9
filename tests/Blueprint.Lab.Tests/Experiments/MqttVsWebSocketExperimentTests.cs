using System.Globalization;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Tests.Experiments;

/// <summary>
/// A quick run with both servers in the test process. Latencies depend on the machine, so these tests check what does
/// not: the bytes each protocol puts on the wire, which the specifications fix, and that QoS 1 delivers everything.
/// </summary>
public sealed class MqttVsWebSocketExperimentTests
{
    private static readonly Lazy<ExperimentResult> QuickRun = new(() =>
        new MqttVsWebSocketExperiment().Run(new ExperimentOptions(LabCommand.DefaultSeed, Quick: true), new Progress<double>()));

    [Fact]
    public void QuickRun_Always_StatesEveryClaim()
    {
        Assert.Equal(
            ["mqtt-fixed-header", "mqtt-beats-ws-envelope", "mqtt-beats-bare-ws", "qos1-costs-an-ack", "mqtt-setup-lighter", "latency-comparable", "qos1-delivers-all", "qos0-loses", "ws-loses-without-acks"],
            QuickRun.Value.Claims.Select(claim => claim.Id));
    }

    [Fact]
    public void QuickRun_Frames_HaveTheSpecifiedSizes()
    {
        Claim header = Claim("mqtt-fixed-header");
        Assert.True(header.Holds, header.Measured);
        Claim ack = Claim("qos1-costs-an-ack");
        Assert.True(ack.Holds, ack.Measured);

        // A bare WebSocket frame: 2 bytes of header and 4 of mask from the client, 2 of header from the server.
        ResultTable bytes = Table("Bytes per reading");
        IReadOnlyList<string>[] bare = [.. bytes.Rows.Where(row => row[0] == "WebSocket, bare frame")];
        Assert.Equal(2, bare.Length);
        Assert.All(bare, row =>
        {
            double reading = Number(row[1].Replace(" B", "", StringComparison.Ordinal));
            Assert.Equal(reading + 6, Number(row[2]));
            Assert.Equal(0, Number(row[3]));
            Assert.Equal(reading + 2, Number(row[4]));
        });
    }

    [Fact]
    public void QuickRun_LossyLink_Qos1DeliversEverything()
    {
        Claim qos1 = Claim("qos1-delivers-all");
        Assert.True(qos1.Holds, qos1.Measured);
        ResultTable lossy = Table("A link that breaks");
        Assert.Equal(["MQTT 5 QoS 0", "MQTT 5 QoS 1", "WebSocket, JSON envelope"], lossy.Rows.Select(row => row[0]));
        Assert.All(lossy.Rows, row => Assert.True(Number(row[5]) > 0, $"{row[0]}: the link was never reset"));
    }

    private static Claim Claim(string id) => QuickRun.Value.Claims.Single(claim => claim.Id == id);

    private static ResultTable Table(string titleStart) =>
        QuickRun.Value.Tables.Single(table => table.Title.StartsWith(titleStart, StringComparison.Ordinal));

    private static double Number(string cell) => double.Parse(cell, NumberStyles.Number, CultureInfo.InvariantCulture);
}
