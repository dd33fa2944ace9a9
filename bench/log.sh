#!/usr/bin/env bash
# The log module measured side by side with Redis Streams and NATS JetStream, one run on one machine, everything on
# 127.0.0.1. Each server is a single node with one partition (one Kafka topic partition, one Redis stream key, one
# JetStream stream on file storage), driven by one load tool (bench/Blueprint.LogLoad) over one producer connection
# with the same window of WINDOW unacknowledged appends on every side:
#   produce 100 B / 1 KiB   appends as fast as the window allows, WARMUP_SECONDS then SECONDS_PER_ROW measured:
#                           acknowledged records/s and MB/s of payload (10^6 bytes). Blueprint through Confluent.Kafka
#                           (acks=all, linger.ms=LINGER_MS, batch.size 1 000 000, no compression, no idempotence);
#                           Redis by XADD, StackExchange.Redis pipelining every outstanding command; NATS by publishes
#                           with a reply subject, the PubAcks read on one inbox subscription (the Go client's
#                           asynchronous publish).
#   consume 100 B / 1 KiB   everything the produce row wrote, read from the beginning by a fresh client, timed from the
#                           first record to the last: a Kafka consumer assigned to the partition (no group, no
#                           commits), XREAD COUNT FETCH_RECORDS, a pull consumer (ack policy none) in batches of
#                           FETCH_RECORDS.
#   latency                 LATENCY_RATE records/s of 100 B for LATENCY_SECONDS (the first WARMUP_SECONDS not
#                           recorded) while a reader tails the topic; each record carries its send time and the reader
#                           records now − sent (one process, one monotonic clock) in an HdrHistogram: p50, p99, p99.9.
#                           Kafka's producer runs with linger.ms=LATENCY_LINGER_MS here: the others send at once too.
# Durability is matched in two classes, each its own table:
#   fsync      every acknowledged append is on disk: Blueprint --log-fsync batch (group commit: an fsync covering the
#              produce before its answer) vs redis-server appendfsync always (fsync before the replies of each
#              event-loop pass). NATS is not in this class: nats-server 2.9 has no setting to fsync each write
#              (sync_interval is "unknown field" before 2.10).
#   buffered   appends go to the page cache and are synced periodically: Blueprint --log-fsync interval (every 100 ms)
#              vs redis-server appendfsync everysec vs nats-server's default (background sync; 2.10 documents 2 minutes).
# Each side runs as a fresh server per round and class (its data deleted after), the rows in the order above. The rounds
# are interleaved: ROUNDS rounds, each running every class and every side, the side order rotating between rounds so a
# change of background load on this shared machine lands on every side; tables give the median of the rounds and each
# round's ratio. Ratios are Blueprint / peer: above 1 is better for throughput, below 1 is better for latency. Each
# row's server CPU (utime + stime from /proc) and client CPU are recorded too. Every round starts with the disk's
# physical limit on the file system of the data directories: 1 MiB writes each fsynced, and small appends each
# fsynced (and fdatasynced).
# Any append or read that fails fails the run after the tables.
# Installs redis-server and nats-server with apt-get when missing; builds the node and the load tool (Release) before
# measuring. About 13 minutes with the defaults.
# Usage: bench/log.sh   (env: SECONDS_PER_ROW=5, WARMUP_SECONDS=2, LATENCY_SECONDS=12, LATENCY_RATE=5000, ROUNDS=3,
#                        WINDOW=8192, LINGER_MS=5, LATENCY_LINGER_MS=0, FETCH_RECORDS=1000, CLASSES=fsync,buffered,
#                        SIDES=blueprint,redis,nats)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
seconds=${SECONDS_PER_ROW:-5}
warmup=${WARMUP_SECONDS:-2}
latency_seconds=${LATENCY_SECONDS:-12}
rate=${LATENCY_RATE:-5000}
rounds=${ROUNDS:-3}
window=${WINDOW:-8192}
linger=${LINGER_MS:-5}
latency_linger=${LATENCY_LINGER_MS:-0}
fetch=${FETCH_RECORDS:-1000}
classes=${CLASSES:-fsync,buffered}
sides=${SIDES:-blueprint,redis,nats}
load_dll="$root/bench/Blueprint.LogLoad/bin/Release/net10.0/Blueprint.LogLoad.dll"
work=$(mktemp -d)
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "log.sh: $*" >&2; exit 1; }

for n in "$seconds" "$warmup" "$latency_seconds" "$rate" "$rounds" "$window" "$linger" "$latency_linger" "$fetch"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "log.sh: SECONDS_PER_ROW, WARMUP_SECONDS, LATENCY_SECONDS, LATENCY_RATE, ROUNDS, WINDOW, LINGER_MS, LATENCY_LINGER_MS and FETCH_RECORDS are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$rounds" -ge 1 ] && [ "$seconds" -ge 1 ] && [ "$rate" -ge 1 ] && [ "$window" -ge 1 ] && [ "$fetch" -ge 1 ] ||
  { echo "log.sh: ROUNDS, SECONDS_PER_ROW, LATENCY_RATE, WINDOW and FETCH_RECORDS are at least 1" >&2; exit 2; }
[ "$latency_seconds" -gt "$warmup" ] || { echo "log.sh: LATENCY_SECONDS ($latency_seconds) must be longer than WARMUP_SECONDS ($warmup), which it includes" >&2; exit 2; }
for c in ${classes//,/ }; do
  case "$c" in fsync | buffered) ;; *) echo "log.sh: CLASSES takes fsync and buffered, got '$c'" >&2; exit 2 ;; esac
done
for s in ${sides//,/ }; do
  case "$s" in blueprint | redis | nats) ;; *) echo "log.sh: SIDES takes blueprint, redis and nats, got '$s'" >&2; exit 2 ;; esac
done

"$here/peers/redis.sh" install
"$here/peers/nats.sh" install
dotnet build -c Release "$root/bench/Blueprint.LogLoad" -v quiet -nologo >/dev/null ||
  fail "bench/Blueprint.LogLoad does not build (dotnet build -c Release bench/Blueprint.LogLoad)"
if has "$sides" blueprint; then
  "$here/peers/blueprint.sh" build || fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"
fi

load() { timeout $((latency_seconds + seconds + warmup + 300)) dotnet "$load_dll" "$@"; }

# field JSON NAME → the field's value ("" when absent or null)
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }


results="$work/results.jsonl" # one line per measurement: {"class","side","row","round","server_cpu_s","result"}
: >"$results"
record() {
  python3 -c 'import json,sys; print(json.dumps({"class":sys.argv[1],"side":sys.argv[2],"row":sys.argv[3],"round":int(sys.argv[4]),"server_cpu_s":float(sys.argv[5]),"result":json.loads(sys.argv[6])}))' "$@" >>"$results"
}

# start_server CLASS SIDE DIR → prints "PID PORT" once the server answers
start_server() {
  local class=$1 side=$2 dir=$3 port pid http
  port=$(free_port)
  case "$side" in
    blueprint)
      http=$(free_port)
      pid=$("$here/peers/blueprint.sh" start "$http" "$(free_port)" "$dir" --modules log --kafka-port "$port" \
        --log-fsync "$([ "$class" = fsync ] && echo batch || echo interval)") || return 1
      ;;
    redis)
      pid=$(REDIS_PERSISTENCE="$([ "$class" = fsync ] && echo always || echo everysec)" "$here/peers/redis.sh" start "$port" "$dir") || return 1
      ;;
    nats)
      pid=$("$here/peers/nats.sh" start "$port" "$dir") || return 1
      ;;
  esac
  echo "$pid $port"
}

stop_server() {
  local side=$1 dir=$2
  case "$side" in
    blueprint) "$here/peers/blueprint.sh" stop "$dir" ;;
    redis) "$here/peers/redis.sh" stop "$dir" ;;
    nats) "$here/peers/nats.sh" stop "$dir" ;;
  esac
}

# run_row CLASS SIDE ROUND ROW PID -- LOAD ARGS…: one measured row; prints its JSON line (an error line when the tool failed)
run_row() {
  local class=$1 side=$2 round=$3 row=$4 pid=$5 before after line
  shift 6
  before=$(cpu_seconds "$pid")
  if ! line=$(load "$@" 2>"$work/load.err"); then
    line=$(python3 -c 'import json,sys; print(json.dumps({"errors":1,"first_error":sys.argv[1]}))' "$(tail -3 "$work/load.err" | tr '\n' ' ')")
  fi
  after=$(cpu_seconds "$pid")
  record "$class" "$side" "$row" "$round" "$(python3 -c "print(max(0.0, $after - $before))")" "$line"
  echo "  [$(elapsed)] round $round $class $side $row: $line" >&2
  echo "$line"
}

# run_side CLASS SIDE ROUND: a fresh server, every row, then the server stopped and its data deleted
run_side() {
  local class=$1 side=$2 round=$3 dir="$work/$2-$1-r$3" target started pid port server line bytes total
  case "$side" in blueprint) target=kafka ;; redis) target=redis ;; nats) target=nats ;; esac
  if ! started=$(start_server "$class" "$side" "$dir"); then
    record "$class" "$side" start "$round" 0 "$(python3 -c 'import json,sys; print(json.dumps({"errors":1,"first_error":sys.argv[1]}))' "$side did not start")"
    echo "  round $round $class $side: did not start" >&2
    tail -20 "$dir"/*.log >&2 2>/dev/null || true
    return 0
  fi
  read -r pid port <<<"$started"
  started_pids+=("$pid")
  server="127.0.0.1:$port"
  for bytes in 100 1024; do
    line=$(run_row "$class" "$side" "$round" "produce$bytes" "$pid" -- "$target" produce --server "$server" --topic "bench-$bytes" \
      --record-bytes "$bytes" --seconds "$seconds" --warmup-seconds "$warmup" --window "$window" --linger-ms "$linger")
    total=$(field "$line" acked_total)
    if [ -n "$total" ] && [ "$total" -gt 0 ]; then
      run_row "$class" "$side" "$round" "consume$bytes" "$pid" -- "$target" consume --server "$server" --topic "bench-$bytes" \
        --record-bytes "$bytes" --records "$total" --fetch-records "$fetch" >/dev/null
    fi
  done
  run_row "$class" "$side" "$round" latency "$pid" -- "$target" latency --server "$server" --topic bench-latency --record-bytes 100 \
    --rate "$rate" --seconds "$latency_seconds" --warmup-seconds "$warmup" --window "$window" --linger-ms "$latency_linger" \
    --fetch-records "$fetch" >/dev/null
  if grep -q "\"side\": \"$side\".*\"round\": $round,.*\"errors\": [1-9]" "$results"; then
    echo "  round $round $class $side: errors; the server's log:" >&2
    tail -20 "$dir"/*.log >&2 2>/dev/null || true
  fi
  if [ "$side" = redis ]; then
    record "$class" "$side" aof_rewrites "$round" 0 "{\"count\": $(grep -c 'Background append only file rewriting started' "$dir/redis.log" 2>/dev/null || echo 0)}"
  fi
  stop_server "$side" "$dir"
  forget_pid "$pid"
  rm -rf "$dir"
}


load_start=$(cut -d' ' -f1-3 /proc/loadavg)
run_started=$SECONDS
elapsed() { printf '%d:%02d' $(((SECONDS - run_started) / 60)) $(((SECONDS - run_started) % 60)); }
for ((round = 1; round <= rounds; round++)); do
  line=$(load disk --dir "$work/disk" --seconds 4) || fail "the disk measurement failed"
  record disk disk limit "$round" 0 "$line"
  echo "  [$(elapsed)] round $round disk: $line" >&2
  for class in ${classes//,/ }; do
    order=()
    for side in blueprint redis nats; do
      has "$sides" "$side" || continue
      [ "$class" = fsync ] && [ "$side" = nats ] && continue
      order+=("$side")
    done
    # rotate the side order by one place per round
    n=${#order[@]}
    for ((i = 0; i < n; i++)); do run_side "$class" "${order[$(((i + round - 1) % n))]}" "$round"; done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo "# log.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), $(redis-server --version | grep -o 'v=[0-9.]*' | sed 's/v=/redis-server /'), nats-server $(nats-server --version | grep -o '[0-9][0-9.]*')"
echo "# one partition, one producer connection, window $window; produce ${seconds} s after ${warmup} s warm-up; latency $rate/s × ${latency_seconds} s (first ${warmup} s not recorded), Kafka linger.ms $linger (latency: $latency_linger); $rounds interleaved rounds (median); ratios Blueprint/peer; load average at start $load_start, at end $load_end"
echo
python3 - "$results" "$classes" "$sides" <<'PY' || exit 1
import json, statistics, sys
path, classes, sides = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
data = {}
for line in open(path):
    r = json.loads(line)
    data.setdefault((r["class"], r["side"], r["row"]), []).append(r)

def results(c, s, row):
    return sorted(data.get((c, s, row), []), key=lambda r: r["round"])

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def value(c, s, row, key):
    return med([r["result"].get(key) for r in results(c, s, row) if not r["result"].get("errors")])

def per_record_cpu(c, s, row, which):
    out = []
    for r in results(c, s, row):
        res = r["result"]
        n = res.get("acked_total") or res.get("records")
        cpu = r["server_cpu_s"] if which == "server" else res.get("client_cpu_s")
        if n and cpu is not None and not res.get("errors"):
            out.append(cpu / n * 1e6)
    return med(out)

def fmt(v, digits=0):
    return "" if v is None else f"{v:,.{digits}f}".replace(",", " ")

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"

def round_ratios(c, peer, row, key):
    mine = {r["round"]: r["result"].get(key) for r in results(c, "blueprint", row)}
    theirs = {r["round"]: r["result"].get(key) for r in results(c, peer, row)}
    return " ".join(ratio(mine.get(k), theirs.get(k)) for k in sorted(set(mine) & set(theirs)))

rows = [
    ("produce100", "records_per_s", "produce 100 B, records/s", 0, "mb_per_s"),
    ("produce1024", "records_per_s", "produce 1 KiB, records/s", 0, "mb_per_s"),
    ("consume100", "records_per_s", "consume 100 B, records/s", 0, "mb_per_s"),
    ("consume1024", "records_per_s", "consume 1 KiB, records/s", 0, "mb_per_s"),
    ("latency", "p50_us", "end-to-end latency p50, µs", 0, None),
    ("latency", "p99_us", "end-to-end latency p99, µs", 0, None),
    ("latency", "p999_us", "end-to-end latency p99.9, µs", 0, None),
]
titles = {"fsync": "fsync per write: Blueprint --log-fsync batch · redis appendfsync always (NATS 2.9 cannot fsync per write)",
          "buffered": "OS-buffered, periodic fsync: Blueprint --log-fsync interval (100 ms) · redis appendfsync everysec · NATS default"}
names = {"blueprint": "Blueprint", "redis": "Redis", "nats": "NATS"}
for c in classes:
    peers = [s for s in ("redis", "nats") if s in sides and not (c == "fsync" and s == "nats")]
    shown = [s for s in ("blueprint", "redis", "nats") if s in sides and not (c == "fsync" and s == "nats")]
    if not any(results(c, s, r[0]) for s in shown for r in rows):
        continue
    print(f"### {titles[c]}")
    print()
    head = "| workload | " + " | ".join(names[s] for s in shown)
    if "blueprint" in shown:
        head += "".join(f" | Blueprint/{names[p]}" for p in peers) + "".join(f" | per round vs {names[p]}" for p in peers)
    print(head + " |")
    print("|---" * (head.count("|")) + "|")
    for row, key, label, digits, mb in rows:
        cells = []
        for s in shown:
            v = value(c, s, row, key)
            cell = fmt(v, digits)
            if mb and v is not None:
                cell += f" ({fmt(value(c, s, row, mb), 1)} MB/s)"
            cells.append(cell)
        line = f"| {label} | " + " | ".join(cells)
        if "blueprint" in shown:
            b = value(c, "blueprint", row, key)
            line += "".join(f" | **{ratio(b, value(c, p, row, key))}**" for p in peers)
            line += "".join(f" | {round_ratios(c, p, row, key)}" for p in peers)
        print(line + " |")
    print()
    print("| CPU per record, µs (median) | " + " | ".join(f"{names[s]} server | {names[s]} client" for s in shown) + " |")
    print("|---" * (1 + 2 * len(shown)) + "|")
    for row, label in (("produce100", "produce 100 B"), ("produce1024", "produce 1 KiB"), ("consume100", "consume 100 B"), ("consume1024", "consume 1 KiB")):
        print(f"| {label} | " + " | ".join(f"{fmt(per_record_cpu(c, s, row, 'server'), 2)} | {fmt(per_record_cpu(c, s, row, 'client'), 2)}" for s in shown) + " |")
    print()
    print("Server: the server process's CPU during the row ÷ the records acknowledged (produce) or read (consume). Client: the whole "
          "load-tool process, start-up and warm-up included, ÷ the same records — comparable between rows of one size only.")
    rewrites = [r["result"]["count"] for r in results(c, "redis", "aof_rewrites")]
    if rewrites:
        print()
        print(f"Redis AOF rewrites started during the rows, per round: {' '.join(str(n) for n in rewrites)}")
    print()

disk = results("disk", "disk", "limit")
if disk:
    print("### The disk's physical limit (same file system as the data directories; median of the rounds)")
    print()
    print("| what | median | every round |")
    print("|---|---|---|")
    for key, label in (("sequential_1mib_fsync_mb_per_s", "1 MiB writes, each fsynced: MB/s"),
                       ("sequential_1mib_fsync_p50_us", "1 MiB write + fsync, p50 µs"),
                       ("append_fsync_per_s", "100 B appends, each fsynced: appends/s"),
                       ("append_fsync_p50_us", "100 B append + fsync, p50 µs"),
                       ("append_fdatasync_per_s", "100 B appends, each fdatasynced: appends/s"),
                       ("append_fdatasync_p50_us", "100 B append + fdatasync, p50 µs")):
        values = [r["result"][key] for r in disk]
        print(f"| {label} | {fmt(med(values), 0)} | {' '.join(fmt(v, 0) for v in values)} |")
    print()

errors = []
for (c, s, row), rs in sorted(data.items()):
    for r in rs:
        if r["result"].get("errors"):
            errors.append(f"{c} {s} {row} round {r['round']}: {r['result'].get('errors')} errors, first: {r['result'].get('first_error')}")
for e in errors:
    print(f"log.sh: FAILED — {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
