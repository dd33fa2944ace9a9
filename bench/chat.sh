#!/usr/bin/env bash
# The chat module measured side by side with Socket.IO 4 (@socket.io/redis-adapter on a redis-server), one run on one
# machine, everything on 127.0.0.1. One load generator (bench/chat/load.js, node.js) speaks both: Blueprint's WebSocket
# JSON protocol (docs/chat.md) with `ws`, and Socket.IO with socket.io-client (WebSocket transport only). Per side:
#   conns    CONNECTIONS idle connections, each authenticated and subscribed to one room, spread over the servers
#            (Blueprint: USERS users with API keys, several connections each; Socket.IO: user names in the handshake's
#            auth), after a warm-up of WARM connections opened and closed; the servers' RSS growth per connection
#            (/proc VmRSS, summed over the side's processes: the nodes; the Socket.IO processes and their redis-server).
#            One message sent at the end counts the connections that receive it.
#   flat     one room, SUBSCRIBERS subscribers and SENDERS senders (their own connections), each sender keeping WINDOW
#            sends unacknowledged: deliveries/s counted at the receivers over SECONDS_PER_ROW after WARMUP_SECONDS
#   paced    the same room and connections, RATE messages/s in all: send→receive latency p50/p99 of every delivery of
#            the messages sent in the measured window (one process, one monotonic clock), and how many arrived
# Each message is 64 bytes of text starting with its send time. The servers' CPU (and the load generator's) over each
# measured window is recorded.
# --nodes 2 (the default) runs each side as two server processes with the connections split over both: two Blueprint
# nodes (the second on the first's KV, `Kv:ConnectionString`, and the same SQLite file, `Sql:ConnectionString`) and
# two Socket.IO processes sharing one redis-server through the adapter. --nodes 1 runs one of each: one node against one
# Socket.IO process (still with its redis adapter). Both sides carry a message between their processes over the KV's or
# redis's pub/sub; the "arrived" rows and the check message show whether every subscriber on every process got it.
# Blueprint runs as `blueprint run --modules kv,sql,chat` with the node's defaults (SQLite with synchronous=FULL: every
# message is stored before it is fanned out and acknowledged); the Socket.IO server (bench/chat/sio-server.js) stores
# nothing and checks no key.
# SQLITE_DIR=/dev/shm puts the nodes' SQLite file on a tmpfs, where an fsync costs nothing: the share of the per-message
# commit in the numbers (Socket.IO keeps no history; with SQLITE_DIR=/dev/shm neither side survives a machine crash).
# Rounds are interleaved: ROUNDS rounds, each starting both sides afresh and running each row on one side and at once on
# the other, the side order rotating between rounds; the table gives the medians and each round's ratio. Ratios:
# connections Socket.IO KB / Blueprint KB per connection, throughput Blueprint / Socket.IO (both: above 1 is better for Blueprint); latency Blueprint / Socket.IO (below 1 is
# better for Blueprint).
# Needs node.js (20+) and npm (installs bench/chat's locked packages when node_modules is missing) and redis-server
# (apt-get when missing); builds the node (Release) first. About 4 minutes with the defaults, a little over a minute with
# --quick (most of it starting the servers), on a loaded 2-core machine.
# Usage: bash bench/chat.sh [--quick] [--nodes 1|2]
#   env: CONNECTIONS=4000 USERS=500 WARM=200 SUBSCRIBERS=100 SENDERS=4 WINDOW=16 RATE=200 SECONDS_PER_ROW=8
#        WARMUP_SECONDS=2 DRAIN_SECONDS=3 ROUNDS=2 SQLITE_DIR=   (--quick: CONNECTIONS=1000 USERS=200 SECONDS_PER_ROW=3
#        WARMUP_SECONDS=1 DRAIN_SECONDS=1 ROUNDS=1, unless set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"

quick=0
nodes=2
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --nodes) nodes=${2:-}; shift ;;
    --nodes=*) nodes=${1#--nodes=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "chat.sh: unknown argument '$1' (--quick, --nodes 1|2)" >&2; exit 2 ;;
  esac
  shift
done
case "$nodes" in 1 | 2) ;; *) echo "chat.sh: --nodes is 1 or 2, got '$nodes'" >&2; exit 2 ;; esac
if [ "$quick" = 1 ]; then
  connections=${CONNECTIONS:-1000} users=${USERS:-200} seconds=${SECONDS_PER_ROW:-3} warmup=${WARMUP_SECONDS:-1}
  drain=${DRAIN_SECONDS:-1} rounds=${ROUNDS:-1}
else
  connections=${CONNECTIONS:-4000} users=${USERS:-500} seconds=${SECONDS_PER_ROW:-8} warmup=${WARMUP_SECONDS:-2}
  drain=${DRAIN_SECONDS:-3} rounds=${ROUNDS:-2}
fi
warm=${WARM:-200}
subscribers=${SUBSCRIBERS:-100}
senders=${SENDERS:-4}
window=${WINDOW:-16}
rate=${RATE:-200}
sqlite_dir=${SQLITE_DIR:-}
[ -z "$sqlite_dir" ] || [ -d "$sqlite_dir" ] || { echo "chat.sh: SQLITE_DIR '$sqlite_dir' is not a directory" >&2; exit 2; }
for n in "$connections" "$users" "$seconds" "$warmup" "$drain" "$rounds" "$warm" "$subscribers" "$senders" "$window" "$rate"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "chat.sh: CONNECTIONS, USERS, WARM, SUBSCRIBERS, SENDERS, WINDOW, RATE, SECONDS_PER_ROW, WARMUP_SECONDS, DRAIN_SECONDS and ROUNDS are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$connections" -ge 2 ] && [ "$users" -ge 2 ] && [ "$subscribers" -ge 1 ] && [ "$senders" -ge 1 ] && [ "$window" -ge 1 ] &&
  [ "$rate" -ge 1 ] && [ "$seconds" -ge 1 ] && [ "$rounds" -ge 1 ] ||
  { echo "chat.sh: CONNECTIONS and USERS are at least 2; SUBSCRIBERS, SENDERS, WINDOW, RATE, SECONDS_PER_ROW and ROUNDS at least 1" >&2; exit 2; }

fail() { echo "chat.sh: $*" >&2; exit 1; }

# Every connection is a descriptor in the load generator and in a server: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
limit=$(ulimit -n)
if [ "$limit" != unlimited ] && [ $((connections + warm + 512)) -gt "$limit" ]; then
  connections=$((limit - warm - 512))
  [ "$connections" -ge 2 ] || fail "the descriptor limit ($limit) leaves no room for connections"
  echo "chat.sh: CONNECTIONS lowered to $connections (ulimit -n is $limit)" >&2
fi

command -v node >/dev/null || fail "node.js is not installed (it runs the load generator and the Socket.IO peer)"
command -v npm >/dev/null || fail "npm is not installed"
require_tools redis-server:redis-server redis-cli:redis-tools
command -v redis-server >/dev/null || fail "redis-server is not installed (apt-get install redis-server)"
if [ ! -d "$here/chat/node_modules/socket.io" ] || [ ! -d "$here/chat/node_modules/socket.io-client" ] || [ ! -d "$here/chat/node_modules/ws" ]; then
  (cd "$here/chat" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci in bench/chat failed"
fi
"$here/peers/blueprint.sh" build || fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"

work=$(mktemp -d)
started_pids=()
sqlite_dirs=()
cleanup() {
  local pid d
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  for d in "${sqlite_dirs[@]}"; do rm -rf "$d"; done
  rm -rf "$work"
}
trap cleanup EXIT

load() { (cd "$here/chat" && timeout 600 node load.js "$@"); }

results="$work/results.jsonl" # one line per measurement: {"side","row","round","result"}
: >"$results"
record() {
  python3 -c 'import json,sys; print(json.dumps({"side":sys.argv[1],"row":sys.argv[2],"round":int(sys.argv[3]),"result":json.loads(sys.argv[4])}))' "$@" >>"$results"
}
error_json() { python3 -c 'import json,sys; print(json.dumps({"errors":1,"first_error":sys.argv[1]}))' "$1"; }

# wait_http URL PID: until URL answers 200 (false when PID exits or 30 s pass)
wait_http() {
  for _ in $(seq 1 300); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_side SIDE DIR: starts the side's servers; sets side_pids (every process whose RSS and CPU count) and
# side_servers (host:port of each server the clients use)
start_side() {
  local side=$1 dir=$2 http resp pid redis_port port i
  side_pids=() side_servers=()
  mkdir -p "$dir"
  case "$side" in
    blueprint)
      http=$(free_port) resp=$(free_port) sqlite="$dir/n1/data/sql/blueprint.db"
      mkdir -p "$dir/n1/data/sql"
      if [ -n "$sqlite_dir" ]; then
        sqlite=$(mktemp -d -p "$sqlite_dir")
        sqlite_dirs+=("$sqlite")
        sqlite="$sqlite/blueprint.db"
      fi
      pid=$(BLUEPRINT_Sql__ConnectionString="Data Source=$sqlite" "$here/peers/blueprint.sh" start "$http" "$resp" "$dir/n1" --modules kv,sql,chat) || return 1
      started_pids+=("$pid") side_pids+=("$pid") side_servers+=("127.0.0.1:$http")
      if [ "$nodes" = 2 ]; then
        http=$(free_port)
        pid=$(BLUEPRINT_Kv__ConnectionString="127.0.0.1:$resp" BLUEPRINT_Sql__ConnectionString="Data Source=$sqlite" \
          "$here/peers/blueprint.sh" start "$http" "$(free_port)" "$dir/n2" --modules kv,sql,chat) || return 1
        started_pids+=("$pid") side_pids+=("$pid") side_servers+=("127.0.0.1:$http")
      fi
      ;;
    socketio)
      redis_port=$(free_port)
      pid=$("$here/peers/redis.sh" start "$redis_port" "$dir/redis") || return 1
      started_pids+=("$pid") side_pids+=("$pid")
      for ((i = 1; i <= nodes; i++)); do
        port=$(free_port)
        (cd "$here/chat" && exec node sio-server.js --port "$port" --redis-port "$redis_port" --name "sio-$i") >"$dir/sio-$i.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/sio-$i.pid"
        started_pids+=("$pid") side_pids+=("$pid") side_servers+=("127.0.0.1:$port")
        wait_http "http://127.0.0.1:$port/readyz" "$pid" || return 1
      done
      ;;
  esac
}

# stop_side SIDE DIR PID…: stops the side's servers; the PIDs leave started_pids
stop_side() {
  local side=$1 dir=$2 pid d
  shift 2
  case "$side" in
    blueprint)
      [ "$nodes" = 2 ] && "$here/peers/blueprint.sh" stop "$dir/n2"
      "$here/peers/blueprint.sh" stop "$dir/n1"
      for d in "${sqlite_dirs[@]}"; do rm -rf "$d"; done
      sqlite_dirs=()
      ;;
    socketio)
      for f in "$dir"/sio-*.pid; do [ -f "$f" ] && stop_pid "$(cat "$f")"; done
      "$here/peers/redis.sh" stop "$dir/redis"
      ;;
  esac
  for pid in "$@"; do forget_pid "$pid"; done
}

# run_row SIDE ROUND ROW LOAD-ARGS…: one measured row
run_row() {
  local side=$1 round=$2 row=$3 line
  shift 3
  if ! line=$(load "$@" 2>"$work/load.err"); then
    line=$(error_json "$(tail -3 "$work/load.err" | tr '\n' ' ')")
  fi
  record "$side" "$row" "$round" "$line"
  echo "  [$(elapsed)] round $round $side $row: $line" >&2
}

# prepare_side SIDE ROUND: starts the side's servers (and, for Blueprint, creates the users and the room) and keeps
# its load generator arguments in side_args[SIDE] and its PIDs in side_pid_list[SIDE]; false (recorded) when it failed
declare -A side_args=() side_pid_list=()
prepare_side() {
  local side=$1 round=$2 dir="$work/$1-r$2" common
  if ! start_side "$side" "$dir"; then
    record "$side" start "$round" "$(error_json "$side did not start")"
    echo "  round $round $side: did not start" >&2
    tail -20 "$dir"/*.log "$dir"/*/*.log >&2 2>/dev/null || true
    stop_side "$side" "$dir" "${side_pids[@]}"
    return 1
  fi
  side_pid_list[$side]="${side_pids[*]}"
  common="--side $side --servers $(IFS=,; echo "${side_servers[*]}") --pids $(IFS=,; echo "${side_pids[*]}") --users $users"
  if [ "$side" = blueprint ]; then
    if ! load $common --mode setup --out "$dir/fixture.json" --tag "r$round" >/dev/null 2>"$work/load.err"; then
      record "$side" start "$round" "$(error_json "setup: $(tail -3 "$work/load.err" | tr '\n' ' ')")"
      echo "  round $round $side: setup failed: $(tail -3 "$work/load.err")" >&2
      stop_side "$side" "$dir" "${side_pids[@]}"
      return 1
    fi
    common+=" --fixture $dir/fixture.json"
  else
    common+=" --room bench-r$round"
  fi
  side_args[$side]=$common
}

# run_round ROUND: both sides started afresh, then every row on one side and at once on the other (the side order
# rotating between rounds), so the two measurements of a row are seconds apart on a machine whose load moves; then both
# stopped and their files deleted
run_round() {
  local round=$1 live=() side row args i
  for ((i = 0; i < 2; i++)); do
    side=${sides[$(((i + round - 1) % 2))]}
    prepare_side "$side" "$round" && live+=("$side")
  done
  for row in conns flat paced; do
    for side in "${live[@]}"; do
      read -r -a args <<<"${side_args[$side]}"
      case "$row" in
        conns) run_row "$side" "$round" conns "${args[@]}" --mode conns --connections "$connections" --warm "$warm" ;;
        flat) run_row "$side" "$round" flat "${args[@]}" --mode fanout --subscribers "$subscribers" --senders "$senders" \
          --rate 0 --window "$window" --seconds "$seconds" --warmup "$warmup" --drain "$drain" ;;
        paced) run_row "$side" "$round" paced "${args[@]}" --mode fanout --subscribers "$subscribers" --senders "$senders" \
          --rate "$rate" --seconds "$seconds" --warmup "$warmup" --drain "$drain" ;;
      esac
    done
  done
  for side in "${live[@]}"; do
    # shellcheck disable=SC2086 # a list of PIDs
    stop_side "$side" "$work/$side-r$round" ${side_pid_list[$side]}
    rm -rf "${work:?}/$side-r$round"
  done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
run_started=$SECONDS
elapsed() { printf '%d:%02d' $(((SECONDS - run_started) / 60)) $(((SECONDS - run_started) % 60)); }
sides=(blueprint socketio)
for ((round = 1; round <= rounds; round++)); do run_round "$round"; done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

sio_version=$(cd "$here/chat" && node -p 'require("socket.io/package.json").version + ", @socket.io/redis-adapter " + require("@socket.io/redis-adapter/package.json").version')
echo "# chat.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), node $(node --version), Socket.IO $sio_version, redis-server $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2)"
echo "# --nodes $nodes: $( [ "$nodes" = 1 ] && echo "one Blueprint node vs one Socket.IO process (with the redis adapter)" || echo "two Blueprint nodes (shared KV and SQLite) vs two Socket.IO processes (one redis), connections split over both"); Blueprint's SQLite $( [ -n "$sqlite_dir" ] && echo "in SQLITE_DIR=$sqlite_dir" || echo "in the node's data directory")"
echo "# $connections idle connections ($users users); fan-out: 1 room, $subscribers subscribers, $senders senders, flat out with $window sends in flight per sender, paced at $rate messages/s; ${seconds} s measured after ${warmup} s warm-up; $rounds interleaved rounds (median); load average at start $load_start, at end $load_end"
echo
python3 - "$results" "$connections" <<'PY'
import json, statistics, sys
data = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    data.setdefault((r["side"], r["row"]), []).append(r)
connections = int(sys.argv[2])

def runs(side, row):
    return sorted(data.get((side, row), []), key=lambda r: r["round"])

def value(side, row, key):
    values = [r["result"].get(key) for r in runs(side, row) if not r["result"].get("errors")]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

def fmt(v, digits=0):
    return "" if v is None else f"{v:,.{digits}f}".replace(",", " ")

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"

def round_ratios(row, key, inverse):
    mine = {r["round"]: r["result"].get(key) for r in runs("blueprint", row)}
    theirs = {r["round"]: r["result"].get(key) for r in runs("socketio", row)}
    pairs = [(theirs.get(k), mine.get(k)) if inverse else (mine.get(k), theirs.get(k)) for k in sorted(set(mine) & set(theirs))]
    return " ".join(ratio(a, b) for a, b in pairs)

print("| row | metric | Blueprint | Socket.IO | ratio | ratio per round |")
print("|---|---|---|---|---|---|")
# (row, key, label, digits, ratio: None | "bp/sio" | "sio/bp", bold)
lines = [
    ("conns", "connections", "connections held, subscribed", 0, None, False),
    ("conns", "received_check", "of them receiving a check message", 0, None, False),
    ("conns", "kb_per_conn", "server RSS growth per connection, KB", 1, "sio/bp", True),
    ("conns", "kb_per_conn_second_half", "the same over the second half only, KB", 1, "sio/bp", False),
    ("conns", "rss_after_kb", "server RSS holding them, MB", 1, None, False),
    ("conns", "conns_per_s", "connections opened (and subscribed) per second", 0, "bp/sio", False),
    ("flat", "deliveries_per_s", "flat out: deliveries/s", 0, "bp/sio", True),
    ("flat", "sent_per_s", "flat out: messages sent (acknowledged) per second", 0, "bp/sio", False),
    ("flat", "p50_us", "flat out: latency p50, ms", 1, "bp/sio", False),
    ("flat", "p99_us", "flat out: latency p99, ms", 1, "bp/sio", False),
    ("flat", "delivered_pct", "flat out: window's deliveries that arrived, %", 2, None, False),
    ("flat", "server_cpu_s", "flat out: server CPU over the window, s", 2, "bp/sio", False),
    ("flat", "client_cpu_s", "flat out: load generator CPU over the window, s", 2, None, False),
    ("paced", "deliveries_per_s", "paced: deliveries/s", 0, None, False),
    ("paced", "p50_us", "paced: latency p50, ms", 2, "bp/sio", True),
    ("paced", "p99_us", "paced: latency p99, ms", 2, "bp/sio", True),
    ("paced", "delivered_pct", "paced: window's deliveries that arrived, %", 2, None, False),
    ("paced", "server_cpu_s", "paced: server CPU over the window, s", 2, "bp/sio", False),
    ("paced", "client_cpu_s", "paced: load generator CPU over the window, s", 2, None, False),
]
for row, key, label, digits, how, bold in lines:
    b, s = value("blueprint", row, key), value("socketio", row, key)
    scale = 1000.0 if key.endswith("_us") else 1024.0 if key.endswith("_kb") else 1.0
    shown = lambda v: None if v is None else v / scale
    if how is None:
        r, per = "", ""
    else:
        r = ratio(s, b) if how == "sio/bp" else ratio(b, s)
        r = f"**{r}**" if bold else r
        per = round_ratios(row, key, how == "sio/bp")
    print(f"| {row} | {label} | {fmt(shown(b), digits)} | {fmt(shown(s), digits)} | {r} | {per} |")

missing = [side for side in ("blueprint", "socketio") if not any(not r["result"].get("errors") for (s, row), rs in data.items() if s == side and row != "start" for r in rs)]
errors = [r for rs in data.values() for r in rs if r["result"].get("errors")]
for r in errors:
    print(f"\nerror: round {r['round']} {r['side']} {r['row']}: {r['result'].get('first_error')}")
for side in missing:
    print(f"\nmissing peer: {side} produced no measurement")
for side in ("blueprint", "socketio"):
    for row in ("flat", "paced"):
        pct = value(side, row, "delivered_pct")
        if pct is not None and pct < 99.9:
            print(f"\nnote: {side} {row}: only {pct:.1f}% of the window's deliveries arrived")
closed = [(r["side"], r["row"], r["round"], r["result"].get("subscribers_closed")) for rs in data.values() for r in rs if r["result"].get("subscribers_closed")]
for side, row, rnd, n in closed:
    print(f"\nnote: round {rnd} {side} {row}: {n} subscribers were closed by the server (a slow consumer is cut off with 4008)")
sys.exit(1 if errors or missing else 0)
PY
