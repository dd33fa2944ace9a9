using Blueprint.Lab.Experiments.Push;

namespace Blueprint.Lab.Experiments;

/// <summary>The claims, their verdicts, the tables and the plot.</summary>
public sealed partial class LongPollingVsWebSocketsExperiment
{
    /// <summary>How far SSE's bytes per message may be above the WebSocket's and still count as close.</summary>
    private const double SseCloseRatio = 1.25;

    /// <summary>Polls per delivered message at the lowest rate that count as one poll per message.</summary>
    private const double OnePollPerMessage = 0.9;

    /// <summary>The lowest rate whose CPU per delivery is compared: enough deliveries that the process's idle CPU is noise.</summary>
    private const double CpuMinRate = 200;

    private static ExperimentResult Report(Sizes sizes, IReadOnlyList<Row> rows)
    {
        Row[] ws = Of(rows, PushTransport.WebSocket);
        Row[] sse = Of(rows, PushTransport.ServerSentEvents);
        Row[] lp = Of(rows, PushTransport.LongPolling);
        string PerRate(Row[] of, Func<Row, string> value) => string.Join(", ", of.Select(row => $"{Fmt.Num(row.Rate, 0)}/s → {value(row)}"));
        bool everyRate(Func<Row, Row, bool> holds) => ws.Zip(lp).All(pair => holds(pair.First, pair.Second));
        int jsonBytes = PushFeed.Encode(1_000, System.Diagnostics.Stopwatch.GetTimestamp(), BodyBytes).Length;

        List<Claim> claims =
        [
            new("all-delivered", "Every transport delivers every message to every client, in order.",
                "each client receives each message once, without a gap (long polling asks from its last sequence number, so nothing published between two polls is missed)",
                string.Join("; ", Transports.Select(transport => $"{Label(transport)}: {Fmt.Int(Of(rows, transport).Sum(row => row.Delivered))} of {Fmt.Int(Of(rows, transport).Sum(row => (long)row.Messages * row.Clients))}, {Fmt.Int(Of(rows, transport).Sum(row => row.Gaps))} gaps, {Fmt.Int(Of(rows, transport).Sum(row => row.Duplicates))} duplicates")),
                rows.All(row => row.Delivered == (long)row.Messages * row.Clients && row.Gaps == 0 && row.Duplicates == 0 && row.Dropped == 0)),
            new("ws-fewer-bytes", "A WebSocket costs fewer bytes per delivered message than long polling.",
                $"a frame is the message ({jsonBytes} B of JSON) + 2–4 B; a poll is a request and a response with their headers, spread over the messages it carries: more at every rate",
                $"WebSocket {PerRate(ws, row => $"{Fmt.Num(row.Bytes, 1)} B")}; long polling {PerRate(lp, row => $"{Fmt.Num(row.Bytes, 1)} B")}",
                everyRate((w, l) => w.Bytes < l.Bytes)),
            new("lp-one-poll-per-message", "When messages are sparse, long polling pays a full request per message.",
                $"at {Fmt.Num(lp[0].Rate, 0)}/s each held poll is answered with one message: at least {Fmt.Num(OnePollPerMessage, 1)} polls per delivered message",
                $"{Fmt.Num(lp[0].PollsPerMessage, 3)} polls per delivered message",
                lp[0].PollsPerMessage >= OnePollPerMessage),
            new("lp-amortizes", "As the rate rises, a poll carries several messages and long polling's overhead per message falls.",
                $"polls and bytes per delivered message lower at {Fmt.Num(lp[^1].Rate, 0)}/s than at {Fmt.Num(lp[0].Rate, 0)}/s (messages published while a client re-polls wait for it and go together)",
                $"polls per message {PerRate(lp, row => Fmt.Num(row.PollsPerMessage, 3))}; bytes {PerRate(lp, row => Fmt.Num(row.Bytes, 1))}",
                lp[^1].PollsPerMessage < lp[0].PollsPerMessage && lp[^1].Bytes < lp[0].Bytes),
            new("ws-lower-tail-latency", "A WebSocket delivers with a lower tail latency than long polling.",
                "a message published while a long-polling client is between polls waits for its next request (a round trip); a WebSocket sends at once: p99 lower at every rate",
                $"p99 WebSocket {PerRate(ws, row => $"{Fmt.Num(row.P99Ms, 2)} ms")}; long polling {PerRate(lp, row => $"{Fmt.Num(row.P99Ms, 2)} ms")}",
                everyRate((w, l) => w.P99Ms <= l.P99Ms)),
            new("ws-less-cpu", "A WebSocket costs less CPU per delivered message than long polling.",
                "a frame per message against an HTTP request parsed, routed and answered per poll: less CPU per delivered message (server, clients and relay in one process) "
                + $"at {Fmt.Num(CpuMinRate, 0)} messages/s and above — below, a run's few deliveries share the process's idle CPU (timers, GC), which the division does not remove",
                $"WebSocket {PerRate(ws, row => $"{Fmt.Num(row.CpuUs, 1)} µs")}; long polling {PerRate(lp, row => $"{Fmt.Num(row.CpuUs, 1)} µs")}",
                ws.Zip(lp).Where(pair => pair.First.Rate >= CpuMinRate).All(pair => pair.First.CpuUs < pair.Second.CpuUs)),
            new("lp-holds-connections", "Long polling does not save connections: every waiting client holds one, as with a WebSocket.",
                $"with HTTP keep-alive each of the {sizes.Clients} clients keeps its connection between polls: as many connections as WebSocket clients, no fewer",
                string.Join("; ", Transports.Select(transport => $"{Label(transport)}: {string.Join(", ", Of(rows, transport).Select(row => Fmt.Int(row.Connections)))} connections for {sizes.Clients} clients")),
                lp.All(row => row.Connections >= row.Clients) && ws.All(row => row.Connections == row.Clients)),
            new("sse-close-to-ws", "Server-Sent Events cost about what a WebSocket does for server-to-client pushes.",
                $"an event is \"data: \" + the message + a blank line, in a chunk of the one response: within {Fmt.Num(SseCloseRatio, 2)}× of the WebSocket's bytes per message at every rate",
                $"SSE {PerRate(sse, row => $"{Fmt.Num(row.Bytes, 1)} B")}; WebSocket {PerRate(ws, row => $"{Fmt.Num(row.Bytes, 1)} B")}",
                sse.Zip(ws).All(pair => pair.First.Bytes <= pair.Second.Bytes * SseCloseRatio)),
        ];

        ResultTable table = new($"Per delivered message, {sizes.Clients} clients in one room, {Fmt.Num(sizes.Seconds, 1)} s per rate, {jsonBytes} B messages",
            ["transport", "rate /s", "delivered", "bytes up", "bytes down", "bytes total", "polls per message", "connections", "p50 ms", "p99 ms", "CPU µs"],
            [.. rows.Select(row => (IReadOnlyList<string>)[
                Label(row.Transport), Fmt.Num(row.Rate, 0), $"{Fmt.Int(row.Delivered)} of {Fmt.Int((long)row.Messages * row.Clients)}", Fmt.Num(row.UpBytes, 1),
                Fmt.Num(row.DownBytes, 1), Fmt.Num(row.Bytes, 1), row.Transport == PushTransport.LongPolling ? Fmt.Num(row.PollsPerMessage, 3) : "—",
                Fmt.Int(row.Connections), Fmt.Num(row.P50Ms, 2), Fmt.Num(row.P99Ms, 2), Fmt.Num(row.CpuUs, 1)])]);
        string summary = $"One room's feed on Kestrel in the lab process pushes each message as the same JSON ({jsonBytes} B) to {sizes.Clients} clients: "
            + "a WebSocket text frame each (ClientWebSocket), a Server-Sent Event each (one held response per client), or long polling "
            + $"(GET /poll?after=N held up to {PushFeed.PollHold.TotalSeconds:F0} s, answered with every message after N; each client its own keep-alive connection). "
            + $"Rates {string.Join(", ", sizes.Rates.Select(rate => Fmt.Num(rate, 0)))} messages/s for {Fmt.Num(sizes.Seconds, 1)} s each, after a first message that every client "
            + "must have received. Every connection goes through a counting TCP relay on loopback: bytes are TCP payload both ways, without TCP/IP "
            + "headers. Latency runs from publish to arrival (one process, one clock); CPU is the whole process's (server, clients, relay) over the "
            + "rate's run, divided by the deliveries.";
        PlotSpec plot = new("Bytes on the wire per delivered message", "log10(messages/s)", "bytes per delivered message",
            [.. Transports.Select(transport => new PlotSeries(Label(transport),
                [.. Of(rows, transport).Select(row => Math.Log10(row.Rate))], [.. Of(rows, transport).Select(row => row.Bytes)], Markers: true))]);
        return new ExperimentResult(ExperimentName, summary, claims, [table], plot);
    }

    private static string Label(PushTransport transport) => transport switch
    {
        PushTransport.WebSocket => "WebSocket",
        PushTransport.ServerSentEvents => "SSE",
        _ => "long polling",
    };

    private static Row[] Of(IReadOnlyList<Row> rows, PushTransport transport) => [.. rows.Where(row => row.Transport == transport)];
}
