namespace Blueprint.Lab.Experiments;

/// <summary>The claims, their verdicts, the table and the plot.</summary>
public sealed partial class StatefulVsStatelessExperiment
{
    /// <summary>The share of the stopped node's users that must lose their session for the sticky claim (some may have finished before it stopped).</summary>
    private const double MostOfTheVictimsUsers = 0.8;

    /// <summary>The users the plot shows: enough to see every third one's cart emptied.</summary>
    private const int PlottedUsers = 30;

    private static ExperimentResult Report(Sizes sizes, ModeRun stateful, ModeRun stateless)
    {
        int lostElsewhere = stateful.Users.Count(user => user.Lost && user.Home != Victim);
        static string Served(long[] counts) => string.Join(" / ", counts.Select(count => Fmt.Int(count)));

        List<Claim> claims =
        [
            new("sticky-loses-the-dead-nodes-sessions", "With sessions in each node's memory, a node's death loses the sessions of the users pinned to it.",
                $"about 1/{Nodes} of the users are pinned to the stopped node; those still shopping when it stops lose their cart (at least {Fmt.Pct(MostOfTheVictimsUsers, 0)} of them), and no other user does",
                $"{Fmt.Int(stateful.Lost)} of {Fmt.Int(sizes.Users)} users lost their session ({Fmt.Int(stateful.HomedOnVictim)} were pinned to the stopped node; {Fmt.Int(lostElsewhere)} lost elsewhere)",
                lostElsewhere == 0 && stateful.Lost >= stateful.HomedOnVictim * MostOfTheVictimsUsers),
            new("shared-state-loses-none", "With sessions in a shared store, any node serves any user and a node's death loses no session.",
                "0 users lose their cart: the surviving nodes read the same store",
                $"{Fmt.Int(stateless.Lost)} of {Fmt.Int(sizes.Users)} users lost their session",
                stateless.Lost == 0),
            new("both-fail-over", "Either way, requests to the dead node fail until the balancer drops it, and are retried elsewhere.",
                "some requests fail when the node stops (in flight, or sent before the balancer knew), and every one succeeds on a retry",
                $"stateful: {Fmt.Int(stateful.Failures)} failed and retried; stateless: {Fmt.Int(stateless.Failures)}; every user finished its {sizes.RequestsPerUser} requests",
                stateful.Failures > 0 && stateless.Failures > 0),
            new("shared-state-costs-a-round-trip", "Shared state costs a store round trip per request.",
                "a request that reads and writes its session in the KV (one INCR over RESP) is slower than one that touches the node's memory: higher p50",
                $"p50 {Fmt.Num(stateless.P50Us / 1000, 2)} ms (shared KV) vs {Fmt.Num(stateful.P50Us / 1000, 2)} ms (memory); p99 {Fmt.Num(stateless.P99Us / 1000, 2)} vs {Fmt.Num(stateful.P99Us / 1000, 2)} ms",
                stateless.P50Us > stateful.P50Us),
        ];

        ResultTable table = new($"{sizes.Users} users × {sizes.RequestsPerUser} requests on {Nodes} app nodes; node {Victim + 1} stopped halfway",
            ["sessions", "balancer", "users on the stopped node", "sessions lost", "failed requests (retried)", "p50 ms", "p99 ms", "requests per node before", "after"],
            [
                ["each node's memory", "sticky", Fmt.Int(stateful.HomedOnVictim), Fmt.Int(stateful.Lost), Fmt.Int(stateful.Failures), Fmt.Num(stateful.P50Us / 1000, 2), Fmt.Num(stateful.P99Us / 1000, 2), Served(stateful.ServedBefore), Served(stateful.ServedAfter)],
                ["shared KV", "round robin", "— (not pinned)", Fmt.Int(stateless.Lost), Fmt.Int(stateless.Failures), Fmt.Num(stateless.P50Us / 1000, 2), Fmt.Num(stateless.P99Us / 1000, 2), Served(stateless.ServedBefore), Served(stateless.ServedAfter)],
            ]);
        string summary = $"{Nodes} app nodes (Kestrel in the lab process) serve a cart: POST /cart/add adds an item to the user's session and answers its count. "
            + $"Stateful: sessions in each node's memory, users pinned to a node (user mod {Nodes}) until it fails, then re-pinned to the next live one. "
            + "Stateless: sessions in a `blueprint run --modules kv` node (INCR over RESP), each request to the next live node. "
            + $"{sizes.Users} users send {sizes.RequestsPerUser} requests each, concurrently; when half of all requests are done, node {Victim + 1} stops. "
            + "A failed request marks its node dead (a passive health check) and is retried on another. A user whose count falls behind what it added lost its session.";
        int shown = Math.Min(PlottedUsers, sizes.Users);
        PlotSpec plot = new($"Items in each cart at the end, of {sizes.RequestsPerUser} added (the first {shown} users)", "user", "items in the cart",
            [
                new PlotSeries("sessions in each node's memory (sticky)", [.. Enumerable.Range(0, shown).Select(user => (double)user)], [.. stateful.Users.Take(shown).Select(user => (double)user.FinalCount)], Markers: true),
                new PlotSeries("sessions in the shared KV", [.. Enumerable.Range(0, shown).Select(user => (double)user)], [.. stateless.Users.Take(shown).Select(user => (double)user.FinalCount)], Markers: true),
            ]);
        return new ExperimentResult(ExperimentName, summary, claims, [table], plot);
    }
}
