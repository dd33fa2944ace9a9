using Blueprint.Lab.Experiments.Notify;

namespace Blueprint.Lab.Experiments;

/// <summary>The claims, their verdicts, the tables and the plot.</summary>
public sealed partial class MqttVsWebSocketExperiment
{
    /// <summary>An MQTT 5 PUBLISH of a small message: 2 bytes of fixed header, 2 of topic length, 1 of property length.</summary>
    private const int MqttPublishOverhead = 5;

    /// <summary>A masked client frame under 126 bytes: 2 bytes of header and 4 of mask.</summary>
    private const int WebSocketClientOverhead = 6;

    /// <summary>A server frame under 126 bytes: 2 bytes of header, no mask.</summary>
    private const int WebSocketServerOverhead = 2;

    /// <summary>The p50 latency ratio within which two protocols count as comparable.</summary>
    private const double ComparableLatencyRatio = 2.0;

    private static ExperimentResult Report(Sizes sizes, IReadOnlyList<WireRow> wire, IReadOnlyList<LossyRow> lossy)
    {
        int topic = Telemetry.Topic.Length;
        WireRow[] qos0 = Rows(wire, TelemetryVariant.MqttQos0);
        WireRow[] qos1 = Rows(wire, TelemetryVariant.MqttQos1);
        WireRow[] raw = Rows(wire, TelemetryVariant.WebSocketRaw);
        WireRow[] envelope = Rows(wire, TelemetryVariant.WebSocketEnvelope);
        LossyRow lossy0 = lossy.Single(row => row.Variant == TelemetryVariant.MqttQos0);
        LossyRow lossy1 = lossy.Single(row => row.Variant == TelemetryVariant.MqttQos1);
        LossyRow lossyWs = lossy.Single(row => row.Variant == TelemetryVariant.WebSocketEnvelope);
        string sizesText = string.Join(", ", sizes.ReadingBytes.Select(size => $"{size} B"));
        static string TotalsOf(WireRow[] rows) => string.Join(", ", rows.Select(row => $"{row.Size} B → {Fmt.Num(row.Total, 1)}"));
        double p50Ratio = qos0.Average(row => row.P50Us) / raw.Average(row => row.P50Us);

        List<Claim> claims =
        [
            new("mqtt-fixed-header", "MQTT's fixed header is 2 bytes: a small PUBLISH costs little more than its topic and payload.",
                $"an MQTT 5 QoS 0 PUBLISH from the publisher = payload + topic ({topic} B) + {MqttPublishOverhead} B (2 fixed header, 2 topic length, 1 property length), exactly, for {sizesText}",
                string.Join("; ", qos0.Select(row => $"{row.Size} B reading: {Fmt.Num(row.PublisherUp, 2)} B (expected {row.Size + topic + MqttPublishOverhead})")),
                qos0.All(row => row.PublisherUp == row.Size + topic + MqttPublishOverhead)),
            new("mqtt-beats-ws-envelope", "For small telemetry MQTT costs fewer bytes per message than a WebSocket frame carrying an app envelope that names the topic.",
                $"bytes per reading summed over the publisher's and the subscriber's links, both ways: MQTT QoS 0 below a WebSocket frame of JSON {{\"topic\":…,\"payload\":…}} for every size",
                $"MQTT QoS 0: {TotalsOf(qos0)}; WebSocket + envelope: {TotalsOf(envelope)}",
                qos0.Zip(envelope).All(pair => pair.First.Total < pair.Second.Total)),
            new("mqtt-beats-bare-ws", "MQTT is lighter on the wire than a WebSocket.",
                $"MQTT QoS 0 below a bare WebSocket frame (payload + {WebSocketClientOverhead} B from a client, + {WebSocketServerOverhead} B from the server) — the frame names no topic, so a single-purpose socket needs none",
                $"MQTT QoS 0: {TotalsOf(qos0)}; bare WebSocket: {TotalsOf(raw)} (client frame {string.Join(", ", raw.Select(row => Fmt.Num(row.PublisherUp, 1)))} B)",
                qos0.Zip(raw).All(pair => pair.First.Total < pair.Second.Total)),
            new("qos1-costs-an-ack", "QoS 1 costs a packet identifier and a PUBACK per message on each hop.",
                "QoS 1 PUBLISH = QoS 0 PUBLISH + 2 B (packet identifier); one PUBACK of 4–6 B back on each hop",
                string.Join("; ", qos1.Zip(qos0).Select(pair => $"{pair.First.Size} B: PUBLISH {Fmt.Num(pair.First.PublisherUp, 1)} vs {Fmt.Num(pair.Second.PublisherUp, 1)} B, PUBACK to publisher {Fmt.Num(pair.First.PublisherDown, 1)} B, from subscriber {Fmt.Num(pair.First.SubscriberUp, 1)} B")),
                qos1.Zip(qos0).All(pair => pair.First.PublisherUp == pair.Second.PublisherUp + 2 && pair.First.PublisherDown is >= 4 and <= 6 && pair.First.SubscriberUp is >= 4 and <= 6)),
            new("mqtt-setup-lighter", "MQTT's connection setup is lighter than a WebSocket's HTTP upgrade.",
                "bytes until both clients are ready (CONNECT/CONNACK + SUBSCRIBE/SUBACK vs two HTTP upgrades): MQTT's fewer",
                $"MQTT: {Fmt.Int(qos0[0].SetupBytes)} B; WebSocket: {Fmt.Int(raw[0].SetupBytes)} B",
                qos0[0].SetupBytes < raw[0].SetupBytes),
            new("latency-comparable", "Over a fast link MQTT QoS 0 and a WebSocket deliver a small message in comparable time.",
                $"mean over sizes of the p50 publish → arrival, one reading at a time: MQTT QoS 0 within {Fmt.Num(ComparableLatencyRatio, 0)}× of the bare WebSocket's, either way",
                $"MQTT QoS 0 {Fmt.Num(qos0.Average(row => row.P50Us), 0)} µs, QoS 1 {Fmt.Num(qos1.Average(row => row.P50Us), 0)} µs, bare WebSocket {Fmt.Num(raw.Average(row => row.P50Us), 0)} µs, with envelope {Fmt.Num(envelope.Average(row => row.P50Us), 0)} µs ({Fmt.Num(p50Ratio, 2)}×)",
                p50Ratio <= ComparableLatencyRatio && p50Ratio >= 1 / ComparableLatencyRatio),
            new("qos1-delivers-all", "QoS 1 delivers every message over a link that breaks (at least once).",
                $"{Fmt.Int(lossy1.Sent)} readings at {Fmt.Num(sizes.LossyRatePerSecond, 0)}/s over a publisher link with +{LossyLatency.TotalMilliseconds:F0} ms each way, reset every {ResetPauseMinMs}–{ResetPauseMaxMs} ms; the publisher resends what the broker did not acknowledge: 100% arrive",
                $"{Fmt.Pct(lossy1.Ratio)} ({Fmt.Int(lossy1.Delivered)} of {Fmt.Int(lossy1.Sent)}), {Fmt.Int(lossy1.Duplicates)} duplicates, over {lossy1.Resets} resets",
                lossy1.Delivered == lossy1.Sent),
            new("qos0-loses", "QoS 0 (at most once) loses messages over a link that breaks.",
                "the same link; a QoS 0 send completes when it is written, so what the link held when it broke is gone: below 100%",
                $"{Fmt.Pct(lossy0.Ratio)} ({Fmt.Int(lossy0.Sent - lossy0.Delivered)} lost) over {lossy0.Resets} resets",
                lossy0.Delivered < lossy0.Sent),
            new("ws-loses-without-acks", "A WebSocket without application acknowledgements loses messages like QoS 0.",
                "the same link; a WebSocket send completes when it is written: below 100% unless the app adds acks and resends",
                $"{Fmt.Pct(lossyWs.Ratio)} ({Fmt.Int(lossyWs.Sent - lossyWs.Delivered)} lost) over {lossyWs.Resets} resets",
                lossyWs.Delivered < lossyWs.Sent),
        ];

        ResultTable bytesTable = new($"Bytes per reading on the wire (TCP payload, {Fmt.Int(sizes.WireMessages)} readings each, topic \"{Telemetry.Topic}\")",
            ["protocol", "reading", "publisher → server", "server → publisher", "server → subscriber", "subscriber → server", "total", "total ÷ reading"],
            [.. wire.Select(row => (IReadOnlyList<string>)[
                Telemetry.Label(row.Variant), $"{row.Size} B", Fmt.Num(row.PublisherUp, 1), Fmt.Num(row.PublisherDown, 1), Fmt.Num(row.SubscriberDown, 1),
                Fmt.Num(row.SubscriberUp, 1), Fmt.Num(row.Total, 1), Fmt.Num(row.Total / row.Size, 2)])]);
        ResultTable setupTable = new("Connection setup: bytes until publisher and subscriber are ready",
            ["protocol", "bytes"],
            [.. wire.GroupBy(row => row.Variant).Select(group => (IReadOnlyList<string>)[Telemetry.Label(group.Key), Fmt.Int(group.First().SetupBytes)])]);
        ResultTable latencyTable = new("Latency publish → arrival, one reading at a time, clean loopback link",
            ["protocol", "reading", "p50 µs", "p99 µs"],
            [.. wire.Select(row => (IReadOnlyList<string>)[Telemetry.Label(row.Variant), $"{row.Size} B", Fmt.Num(row.P50Us, 0), Fmt.Num(row.P99Us, 0)])]);
        ResultTable lossyTable = new($"A link that breaks: +{LossyLatency.TotalMilliseconds:F0} ms each way, reset every {ResetPauseMinMs}–{ResetPauseMaxMs} ms, {LossyReadingBytes} B readings at {Fmt.Num(sizes.LossyRatePerSecond, 0)}/s",
            ["protocol", "sent", "delivered", "ratio", "duplicates", "resets", "reconnects", "failed sends (retried)", "p50 ms", "p99 ms"],
            [.. lossy.Select(row => (IReadOnlyList<string>)[
                Telemetry.Label(row.Variant), Fmt.Int(row.Sent), Fmt.Int(row.Delivered), Fmt.Pct(row.Ratio), Fmt.Int(row.Duplicates), Fmt.Int(row.Resets),
                Fmt.Int(row.Reconnects), Fmt.Int(row.SendFailures), Fmt.Num(row.P50Ms, 1), Fmt.Num(row.P99Ms, 1)])]);

        string summary = $"MQTT 5 (MQTTnet client and broker) against WebSocket frames (ClientWebSocket to a forwarding hub on Kestrel), both servers "
            + $"in the lab process, every connection through a counting TCP relay on loopback; bytes are TCP payload, without TCP/IP headers. "
            + $"Readings of {sizesText} on topic \"{Telemetry.Topic}\", sent one at a time; then {Fmt.Int(sizes.LossyMessages)} readings at "
            + $"{Fmt.Num(sizes.LossyRatePerSecond, 0)}/s over a publisher link with added latency that is reset at random moments (a TCP link "
            + "cannot drop single bytes: loss shows as a broken connection and what it held); every sender reconnects and retries a send "
            + "that failed, and only QoS 1 knows which sends the server did not receive.";
        PlotSpec plot = new("Bytes on the wire per reading (all hops, both ways)", "reading (bytes)", "bytes per reading",
            [.. WireVariants.Select(variant => new PlotSeries(Telemetry.Label(variant),
                [.. Rows(wire, variant).Select(row => (double)row.Size)], [.. Rows(wire, variant).Select(row => row.Total)], Markers: true))]);
        return new ExperimentResult(ExperimentName, summary, claims, [bytesTable, setupTable, latencyTable, lossyTable], plot);
    }

    private static WireRow[] Rows(IReadOnlyList<WireRow> wire, TelemetryVariant variant) => [.. wire.Where(row => row.Variant == variant)];
}
