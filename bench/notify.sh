#!/usr/bin/env bash
# The notify module's embedded MQTT broker measured side by side with Debian's mosquitto, one run on one machine,
# everything on 127.0.0.1. One load tool (bench/Blueprint.MqttLoad, MQTTnet's client) drives both the same way:
# SUBSCRIBERS subscribers on one topic and one publisher, each its own connection, payloads of 64 bytes that start with
# their send time:
#   flat qos0 / qos1     the publisher as fast as a window of WINDOW publishes in flight allows (QoS 1: unacknowledged);
#                        WARMUP_SECONDS then SECONDS_PER_ROW measured
#   rate qos0 / qos1     the publisher paced at RATE messages/s, same timing
# Each row reports deliveries/s (fan-out: every subscriber's receipt counts) and the latency from send to receipt
# (p50, p99; one process, one monotonic clock) of the messages sent in the measured window, and how many of those
# arrived (a broker may drop QoS 0 messages or overflowing queues). The server's CPU (utime + stime from /proc) over each
# row is recorded too.
# Blueprint runs as `blueprint run --modules log,notify` (the log module is required by notify); mosquitto with a minimal
# configuration: a listener on 127.0.0.1, anonymous clients, no persistence, max_queued_messages 10000 (the embedded
# broker's per-client limit; mosquitto's default is 1000).
# The rounds are interleaved: ROUNDS rounds, each starting each side afresh and running every row, the side order
# rotating between rounds; tables give the median of the rounds and each round's ratio. Ratios are Blueprint/mosquitto:
# above 1 is better for throughput, below 1 is better for latency.
# Installs mosquitto with apt-get when missing; builds the node and the load tool (Release) before measuring. About
# 3 minutes with the defaults, after the builds.
#
# The webhook half: end-to-end publish→webhook deliveries against the physical floor, one HTTP hop. One load tool
# (bench/Blueprint.NotifyLoad) starts its own webhook receiver (Kestrel on 127.0.0.1, answering 200 at once) and runs a
# row as one of:
#   floor      the tool POSTs each message straight to its receiver (one HTTP hop: what a webhook can cost at best)
#   pipeline   a fresh node per round (`blueprint run --modules log,notify`, the log's default --log-fsync batch);
#              the tool creates a topic and a raw http subscription to its receiver (confirmed by its
#              SubscriptionConfirmation), then publishes through POST /api/notify/topics/{name}/messages on the node's
#              HTTP port (each row its own topic, deleted with its subscription after the row): appended to the log
#              (fsync) before the 202, fanned out to a delivery record on the log by a consumer, delivered by another
#   pipeline-interval   (only when WEBHOOK_SIDES names it) the same with --log-fsync interval (appends synced every
#              100 ms): the fsync's share
# at each of WEBHOOK_RATES messages/s for WEBHOOK_SECONDS (after WEBHOOK_WARMUP_SECONDS), at most WEBHOOK_CONCURRENCY
# requests in flight, and flat out (WEBHOOK_CONCURRENCY in flight, WEBHOOK_FLAT_SECONDS). Every message carries its
# sequence number and send time; the receiver records each first arrival: deliveries/s (arrivals in the measured
# window), the latency from the request's start to the webhook's arrival (p50, p99; one process, one clock) of the
# messages sent in the window, missing ones (answered 202/200 but not arrived WEBHOOK_DRAIN_SECONDS after the last
# send) and duplicates (at-least-once redeliveries). The node's CPU over each pipeline row is recorded. Rounds are
# interleaved as above (the order of the sides rotating); ratios are pipeline/floor. The goal: pipeline ≥ 0.5× the
# floor's deliveries/s. About 5 minutes with the defaults on a loaded 2-core machine (the node's start included).
# Usage: bench/notify.sh   (env: HALVES=mqtt,webhook; SUBSCRIBERS=10, RATE=2000, WINDOW=256, SECONDS_PER_ROW=5,
#                           WARMUP_SECONDS=2, ROUNDS=2, MQTT=3 (3.1.1) or 5; WEBHOOK_RATES=500,2000,
#                           WEBHOOK_SECONDS=20, WEBHOOK_WARMUP_SECONDS=2, WEBHOOK_FLAT_SECONDS=8, WEBHOOK_DRAIN_SECONDS=5,
#                           WEBHOOK_CONCURRENCY=64, WEBHOOK_SIDES=floor,pipeline[,pipeline-interval])
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
subscribers=${SUBSCRIBERS:-10}
rate=${RATE:-2000}
window=${WINDOW:-256}
seconds=${SECONDS_PER_ROW:-5}
warmup=${WARMUP_SECONDS:-2}
rounds=${ROUNDS:-2}
mqtt=${MQTT:-3}
halves=${HALVES:-mqtt,webhook}
webhook_rates=${WEBHOOK_RATES:-500,2000}
webhook_seconds=${WEBHOOK_SECONDS:-20}
webhook_warmup=${WEBHOOK_WARMUP_SECONDS:-2}
webhook_flat=${WEBHOOK_FLAT_SECONDS:-8}
webhook_drain=${WEBHOOK_DRAIN_SECONDS:-5}
webhook_concurrency=${WEBHOOK_CONCURRENCY:-64}
webhook_sides=${WEBHOOK_SIDES:-floor,pipeline}
load_dll="$root/bench/Blueprint.MqttLoad/bin/Release/net10.0/Blueprint.MqttLoad.dll"
webhook_dll="$root/bench/Blueprint.NotifyLoad/bin/Release/net10.0/Blueprint.NotifyLoad.dll"
work=$(mktemp -d)
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "notify.sh: $*" >&2; exit 1; }

for n in "$subscribers" "$rate" "$window" "$seconds" "$warmup" "$rounds"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "notify.sh: SUBSCRIBERS, RATE, WINDOW, SECONDS_PER_ROW, WARMUP_SECONDS and ROUNDS are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$subscribers" -ge 1 ] && [ "$rate" -ge 1 ] && [ "$window" -ge 1 ] && [ "$seconds" -ge 1 ] && [ "$rounds" -ge 1 ] ||
  { echo "notify.sh: SUBSCRIBERS, RATE, WINDOW, SECONDS_PER_ROW and ROUNDS are at least 1" >&2; exit 2; }
case "$mqtt" in 3 | 5) ;; *) echo "notify.sh: MQTT is 3 (3.1.1) or 5, got '$mqtt'" >&2; exit 2 ;; esac
for n in "$webhook_seconds" "$webhook_warmup" "$webhook_flat" "$webhook_drain" "$webhook_concurrency" ${webhook_rates//,/ }; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "notify.sh: WEBHOOK_RATES, WEBHOOK_SECONDS, WEBHOOK_WARMUP_SECONDS, WEBHOOK_FLAT_SECONDS, WEBHOOK_DRAIN_SECONDS and WEBHOOK_CONCURRENCY are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$webhook_seconds" -ge 1 ] && [ "$webhook_flat" -ge 1 ] && [ "$webhook_concurrency" -ge 1 ] ||
  { echo "notify.sh: WEBHOOK_SECONDS, WEBHOOK_FLAT_SECONDS and WEBHOOK_CONCURRENCY are at least 1" >&2; exit 2; }
for h in ${halves//,/ }; do
  case "$h" in mqtt | webhook) ;; *) echo "notify.sh: HALVES takes mqtt and webhook, got '$h'" >&2; exit 2 ;; esac
done
for s in ${webhook_sides//,/ }; do
  case "$s" in floor | pipeline | pipeline-interval) ;; *) echo "notify.sh: WEBHOOK_SIDES takes floor, pipeline and pipeline-interval, got '$s'" >&2; exit 2 ;; esac
done

if has "$halves" mqtt; then
  require_tools mosquitto:mosquitto
  mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  [ -x "$mosquitto_bin" ] || fail "mosquitto is not installed (apt-get install mosquitto)"
  dotnet build -c Release "$root/bench/Blueprint.MqttLoad" -v quiet -nologo >/dev/null ||
    fail "bench/Blueprint.MqttLoad does not build (dotnet build -c Release bench/Blueprint.MqttLoad)"
fi
if has "$halves" webhook; then
  dotnet build -c Release "$root/bench/Blueprint.NotifyLoad" -v quiet -nologo >/dev/null ||
    fail "bench/Blueprint.NotifyLoad does not build (dotnet build -c Release bench/Blueprint.NotifyLoad)"
fi
"$here/peers/blueprint.sh" build || fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"

load() { timeout $((warmup + seconds + 120)) dotnet "$load_dll" "$@"; }


results="$work/results.jsonl" # one line per measurement: {"side","row","round","server_cpu_s","result"}
: >"$results"
record() {
  python3 -c 'import json,sys; print(json.dumps({"side":sys.argv[1],"row":sys.argv[2],"round":int(sys.argv[3]),"server_cpu_s":float(sys.argv[4]),"result":json.loads(sys.argv[5])}))' "$@" >>"$results"
}

# start_server SIDE DIR → prints "PID PORT" once the server accepts MQTT connections
start_server() {
  local side=$1 dir=$2 port pid
  port=$(free_port)
  mkdir -p "$dir"
  case "$side" in
    blueprint)
      pid=$("$here/peers/blueprint.sh" start "$(free_port)" "$(free_port)" "$dir" --modules log,notify --kafka-port "$(free_port)" \
        --log-raft-port "$(free_port)" --sns-port "$(free_port)" --mqtt-port "$port" --smtp-port 0) || return 1
      ;;
    mosquitto)
      printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 10000\nlog_dest stderr\nlog_type error\nlog_type warning\n' \
        "$port" >"$dir/mosquitto.conf"
      "$mosquitto_bin" -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
      pid=$!
      echo "$pid" >"$dir/mosquitto.pid"
      ;;
  esac
  for _ in $(seq 1 100); do
    mosquitto_pub -h 127.0.0.1 -p "$port" -t bench/ready -n 2>/dev/null && { echo "$pid $port"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop_server() {
  local side=$1 dir=$2
  case "$side" in
    blueprint) "$here/peers/blueprint.sh" stop "$dir" ;;
    mosquitto) [ -f "$dir/mosquitto.pid" ] && stop_pid "$(cat "$dir/mosquitto.pid")" ;;
  esac
}


# run_row SIDE ROUND ROW PID -- LOAD ARGS…: one measured row
run_row() {
  local side=$1 round=$2 row=$3 pid=$4 before after line
  shift 5
  before=$(cpu_seconds "$pid")
  if ! line=$(load "$@" 2>"$work/load.err"); then
    line=$(python3 -c 'import json,sys; print(json.dumps({"errors":1,"first_error":sys.argv[1]}))' "$(tail -3 "$work/load.err" | tr '\n' ' ')")
  fi
  after=$(cpu_seconds "$pid")
  record "$side" "$row" "$round" "$(python3 -c "print(max(0.0, $after - $before))")" "$line"
  echo "  [$(elapsed)] round $round $side $row: $line" >&2
}

# run_side SIDE ROUND: a fresh server, every row, then the server stopped and its data deleted
run_side() {
  local side=$1 round=$2 dir="$work/$1-r$2" started pid port qos
  if ! started=$(start_server "$side" "$dir"); then
    record "$side" start "$round" 0 "{\"errors\": 1, \"first_error\": \"$side did not start\"}"
    echo "  round $round $side: did not start" >&2
    tail -20 "$dir"/*.log >&2 2>/dev/null || true
    return 0
  fi
  read -r pid port <<<"$started"
  started_pids+=("$pid")
  for qos in 0 1; do
    run_row "$side" "$round" "flat-qos$qos" "$pid" -- --server "127.0.0.1:$port" --mqtt "$mqtt" --qos "$qos" --subscribers "$subscribers" \
      --rate 0 --window "$window" --seconds "$seconds" --warmup-seconds "$warmup" --topic "bench/flat-$qos"
    run_row "$side" "$round" "rate-qos$qos" "$pid" -- --server "127.0.0.1:$port" --mqtt "$mqtt" --qos "$qos" --subscribers "$subscribers" \
      --rate "$rate" --window "$window" --seconds "$seconds" --warmup-seconds "$warmup" --topic "bench/rate-$qos"
  done
  stop_server "$side" "$dir"
  forget_pid "$pid"
  rm -rf "$dir"
}

# webhook_side ROUND SIDE: every webhook row of one side; the pipeline sides on a fresh node (each row its own topic,
# deleted after it), stopped and deleted after the last row
webhook_side() {
  local round=$1 side=$2 dir="$work/webhook-$2-r$1" pid=0 http sns r row rate seconds before after line
  local args=(--mode floor)
  if [ "$side" != floor ]; then
    http=$(free_port) sns=$(free_port)
    if ! pid=$("$here/peers/blueprint.sh" start "$http" "$(free_port)" "$dir" --modules log,notify --kafka-port "$(free_port)" \
      --log-raft-port "$(free_port)" --sns-port "$sns" --mqtt-port "$(free_port)" --smtp-port 0 \
      --log-fsync "$([ "$side" = pipeline ] && echo batch || echo interval)"); then
      record "$side" start "$round" 0 '{"errors": 1, "first_error": "the node did not start"}'
      tail -20 "$dir/node.log" >&2 2>/dev/null || true
      return 0
    fi
    started_pids+=("$pid")
    args=(--mode pipeline --node "127.0.0.1:$http" --sns "127.0.0.1:$sns")
  fi
  for r in ${webhook_rates//,/ } flat; do
    if [ "$r" = flat ]; then row=flat rate=0 seconds=$webhook_flat; else row=rate-$r rate=$r seconds=$webhook_seconds; fi
    before=$(cpu_seconds "$pid") # pid 0 (the floor): no node, 0
    if ! line=$(timeout $((webhook_warmup + seconds + webhook_drain + 120)) dotnet "$webhook_dll" "${args[@]}" --topic "bench-$row" \
      --rate "$rate" --seconds "$seconds" --warmup-seconds "$webhook_warmup" --drain-seconds "$webhook_drain" \
      --concurrency "$webhook_concurrency" 2>"$work/load.err"); then
      line=$(python3 -c 'import json,sys; print(json.dumps({"errors":1,"first_error":sys.argv[1]}))' "$(tail -3 "$work/load.err" | tr '\n' ' ')")
    fi
    after=$(cpu_seconds "$pid")
    record "$side" "$row" "$round" "$(python3 -c "print(max(0.0, $after - $before))")" "$line"
    echo "  [$(elapsed)] round $round $side $row: $line" >&2
  done
  if [ "$side" != floor ]; then
    "$here/peers/blueprint.sh" stop "$dir"
    forget_pid "$pid"
    rm -rf "$dir"
  fi
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
run_started=$SECONDS
elapsed() { printf '%d:%02d' $(((SECONDS - run_started) / 60)) $(((SECONDS - run_started) % 60)); }
if has "$halves" mqtt; then
  sides=(blueprint mosquitto)
  for ((round = 1; round <= rounds; round++)); do
    for ((i = 0; i < 2; i++)); do run_side "${sides[$(((i + round - 1) % 2))]}" "$round"; done
  done
fi
webhook_load_start=$(cut -d' ' -f1-3 /proc/loadavg) # the MQTT half's end
if has "$halves" webhook; then
  read -r -a wsides <<<"${webhook_sides//,/ }"
  for ((round = 1; round <= rounds; round++)); do
    for ((i = 0; i < ${#wsides[@]}; i++)); do webhook_side "$round" "${wsides[$(((i + round - 1) % ${#wsides[@]}))]}"; done
  done
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
status=0

if has "$halves" mqtt; then
echo "# notify.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), mosquitto $("$mosquitto_bin" -h 2>/dev/null | grep -o 'version [0-9.]*' | head -1 | cut -d' ' -f2)"
echo "# MQTT $([ "$mqtt" = 3 ] && echo 3.1.1 || echo 5), $subscribers subscribers on one topic, 64-byte payloads; flat out with $window publishes in flight, paced at $rate/s; ${seconds} s measured after ${warmup} s warm-up; $rounds interleaved rounds (median); ratios Blueprint/mosquitto; load average at start $load_start, at end $webhook_load_start"
echo
python3 - "$results" <<'PY' || status=1
import json, statistics, sys
data = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    data.setdefault((r["side"], r["row"]), []).append(r)

def runs(side, row):
    return sorted(data.get((side, row), []), key=lambda r: r["round"])

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def value(side, row, key):
    return med([r["result"].get(key) for r in runs(side, row) if not r["result"].get("errors")])

def server_cpu(side, row):
    return med([r["server_cpu_s"] for r in runs(side, row) if not r["result"].get("errors")])

def fmt(v, digits=0):
    return "" if v is None else f"{v:,.{digits}f}".replace(",", " ")

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"

def round_ratios(row, key):
    mine = {r["round"]: r["result"].get(key) for r in runs("blueprint", row)}
    theirs = {r["round"]: r["result"].get(key) for r in runs("mosquitto", row)}
    return " ".join(ratio(mine.get(k), theirs.get(k)) for k in sorted(set(mine) & set(theirs)))

def arrived(side, row):
    out = []
    for r in runs(side, row):
        res = r["result"]
        if res.get("expected"):
            out.append(100.0 * res["delivered"] / res["expected"])
    return med(out)

rows = [("flat-qos0", "flat out, QoS 0"), ("flat-qos1", "flat out, QoS 1"), ("rate-qos0", "paced, QoS 0"), ("rate-qos1", "paced, QoS 1")]
print("| row | metric | Blueprint | mosquitto | ratio | ratio per round |")
print("|---|---|---|---|---|---|")
for row, title in rows:
    for key, label, better in [("deliveries_per_s", "deliveries/s", "higher"), ("p50_us", "latency p50, µs", "lower"), ("p99_us", "latency p99, µs", "lower")]:
        b, m = value("blueprint", row, key), value("mosquitto", row, key)
        print(f"| {title} | {label} | {fmt(b)} | {fmt(m)} | **{ratio(b, m)}** | {round_ratios(row, key)} |")
    b, m = arrived("blueprint", row), arrived("mosquitto", row)
    print(f"| {title} | window's deliveries that arrived, % | {fmt(b, 2)} | {fmt(m, 2)} | | |")
    b, m = server_cpu("blueprint", row), server_cpu("mosquitto", row)
    print(f"| {title} | server CPU over the row (warm-up included), s | {fmt(b, 2)} | {fmt(m, 2)} | {ratio(b, m)} | |")
errors = [r for (side, _), rs in data.items() if side in ("blueprint", "mosquitto") for r in rs if r["result"].get("errors")]
for r in errors:
    print(f"\nerror: round {r['round']} {r['side']} {r['row']}: {r['result'].get('errors')} failed, first: {r['result'].get('first_error')}")
sys.exit(1 if errors else 0)
PY
fi

if has "$halves" webhook; then
  has "$halves" mqtt && echo
  echo "# notify.sh webhook half $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version)"
  echo "# publish→webhook (raw delivery) vs the floor (one direct POST); paced at $webhook_rates/s for ${webhook_seconds} s and flat out for ${webhook_flat} s, each after ${webhook_warmup} s warm-up, at most $webhook_concurrency requests in flight, ${webhook_drain} s drain; $rounds interleaved rounds (median); ratios pipeline/floor; load average at start $webhook_load_start, at end $load_end"
  echo
  python3 - "$results" "$webhook_rates" <<'PY' || status=1
import json, statistics, sys
data = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["side"] in ("floor", "pipeline", "pipeline-interval"):
        data.setdefault((r["side"], r["row"]), []).append(r)

def runs(side, row):
    return sorted(data.get((side, row), []), key=lambda r: r["round"])

def value(side, row, key):
    values = [r["result"].get(key) for r in runs(side, row) if not r["result"].get("errors")]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def cpu(side, row):
    values = [r["server_cpu_s"] for r in runs(side, row) if not r["result"].get("errors")]
    return statistics.median(values) if values else None

def fmt(v, digits=0):
    return "" if v is None else f"{v:,.{digits}f}".replace(",", " ")

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"

def round_ratios(side, row, key):
    mine = {r["round"]: r["result"].get(key) for r in runs(side, row)}
    floor = {r["round"]: r["result"].get(key) for r in runs("floor", row)}
    return " ".join(ratio(mine.get(k), floor.get(k)) for k in sorted(set(mine) & set(floor)))

sides = [s for s in ("floor", "pipeline", "pipeline-interval") if any(side == s for side, _ in data)]
rows = [(f"rate-{r}", f"paced {r}/s") for r in sys.argv[2].split(",")] + [("flat", "flat out")]
metrics = [("deliveries_per_s", "deliveries/s"), ("p50_us", "send→arrival p50, µs"), ("p99_us", "send→arrival p99, µs"),
           ("answer_p50_us", "request answered p50, µs"), ("answer_p99_us", "request answered p99, µs"),
           ("missing", "missing (after the drain)"), ("duplicates", "duplicates")]
others = [s for s in sides if s != "floor"]
print("| row | metric | " + " | ".join(sides) + "".join(f" | {s}/floor | per round" for s in others) + " |")
print("|---|---|" + "---|" * len(sides) + "---|---|" * len(others))
for row, title in rows:
    for key, label in metrics:
        cells = [fmt(value(s, row, key)) for s in sides]
        ratios = "".join(f" | **{ratio(value(s, row, key), value('floor', row, key))}** | {round_ratios(s, row, key)}" if key in ("deliveries_per_s", "p50_us", "p99_us") else " | | "
                         for s in others)
        print(f"| {title} | {label} | " + " | ".join(cells) + ratios + " |")
    print(f"| {title} | node CPU over the row, s | " + " | ".join(fmt(cpu(s, row), 2) if s != "floor" else "" for s in sides) + " | |" * len(others) + " |")
    print(f"| {title} | load tool CPU (receiver included), s | " + " | ".join(fmt(value(s, row, "client_cpu_s"), 2) for s in sides) + " | |" * len(others) + " |")
errors = [r for rs in data.values() for r in rs if r["result"].get("errors")]
for r in errors:
    print(f"\nerror: round {r['round']} {r['side']} {r['row']}: {r['result'].get('errors')} failed, first: {r['result'].get('first_error')}")
confirmed = {r["result"].get("confirmed_by") for rs in data.values() for r in rs if r["result"].get("confirmed_by")}
for how in sorted(confirmed):
    print(f"\nsubscriptions confirmed by: {how}")
sys.exit(1 if errors else 0)
PY
fi
exit "$status"
