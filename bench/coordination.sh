#!/usr/bin/env bash
# The coordination module measured side by side with etcd 3.4, one run on one machine, everything on
# 127.0.0.1: a 3-member etcd cluster and a 3-member Blueprint cluster (a node per member running only the
# coordination module), both up for the whole run, each driven by the same etcd v3 gRPC client
# (bench/Blueprint.EtcdLoad) with the same rows:
#   put 1       Put of an 8-byte key (pool of 10 000) and a 256-byte value to the leader, 1 client, 1 connection;
#   put N       the same with MANY_CLIENTS clients over CONNS connections;
#   range lin   linearizable Range of one key, MANY_CLIENTS clients spread over the three members;
#   range ser   the same, serializable (a member's local read);
#   lock        etcd's mutex recipe uncontended: a lease per client, then Txn(create_revision == 0 →
#               Put with the lease) and DeleteRange, LOCK_CLIENTS clients on their own keys; pairs/s;
#   failover    Puts to every member every 10 ms (200 ms deadline each) while the leader is killed with
#               SIGKILL: milliseconds from the kill to the first acknowledged Put issued after it. The killed
#               member is restarted from its data and the cluster waited for before the next sample.
# Durability is alike on both sides: etcd fsyncs its WAL before it acknowledges (its default; 3.4 has no
# switch to turn that off), and so does Blueprint's Raft log. etcd runs with its default heartbeat (100 ms)
# and election timeout (1000 ms); Blueprint with its own defaults — failover mostly measures those.
# The rows run in ROUNDS interleaved rounds: each row on one side, then at once on the other, the order
# alternating between rounds, so that a change of background load on this shared machine falls on both
# sides; tables give the median of the rounds and every round's ratio. Every row runs WARMUP_SECONDS
# unmeasured first. Then FAILOVERS failovers per side, alternating.
# Ratios are Blueprint / etcd: above 1 is better for ops/s, below 1 is better for latency and failover.
# Any RPC error in a row fails the run after the tables; a Blueprint cluster that does not start prints
# its members' log tails and fails the run, with etcd's numbers printed alone.
# Installs etcd (etcd-server, etcd-client) with apt-get when missing. About 8 minutes with the defaults.
# Usage: bench/coordination.sh   (env: SECONDS_PER_ROW=10, WARMUP_SECONDS=2, MANY_CLIENTS=64, CONNS=8,
#                                 LOCK_CLIENTS=16, ROUNDS=3, FAILOVERS=3,
#                                 SIDES=etcd,blueprint — SIDES=etcd measures etcd alone)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
seconds=${SECONDS_PER_ROW:-10}
warmup=${WARMUP_SECONDS:-2}
many=${MANY_CLIENTS:-64}
conns=${CONNS:-8}
lock_clients=${LOCK_CLIENTS:-16}
rounds=${ROUNDS:-3}
failovers=${FAILOVERS:-3}
sides=${SIDES:-etcd,blueprint}
members=3
load_dll="$root/bench/Blueprint.EtcdLoad/bin/Release/net10.0/Blueprint.EtcdLoad.dll"
node_dll="$root/src/Blueprint.Node/bin/Release/net10.0/blueprint.dll"
work=$(mktemp -d)
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "coordination.sh: $*" >&2; exit 1; }

for n in "$seconds" "$warmup" "$many" "$conns" "$lock_clients" "$rounds" "$failovers"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "coordination.sh: SECONDS_PER_ROW, WARMUP_SECONDS, MANY_CLIENTS, CONNS, LOCK_CLIENTS, ROUNDS and FAILOVERS are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$rounds" -ge 1 ] || { echo "coordination.sh: ROUNDS is at least 1, got '$rounds'" >&2; exit 2; }
case ",$sides," in *,etcd,*) with_etcd=1 ;; *) with_etcd=0 ;; esac
case ",$sides," in *,blueprint,*) with_blueprint=1 ;; *) with_blueprint=0 ;; esac
[ "$with_etcd$with_blueprint" != 00 ] || { echo "coordination.sh: SIDES names neither etcd nor blueprint: '$sides'" >&2; exit 2; }

"$here/peers/etcd.sh" install
dotnet build -c Release "$root/bench/Blueprint.EtcdLoad" -v quiet -nologo >/dev/null ||
  fail "bench/Blueprint.EtcdLoad does not build (dotnet build -c Release bench/Blueprint.EtcdLoad)"
if [ "$with_blueprint" = 1 ]; then
  "$here/peers/blueprint.sh" build || fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"
fi

load() { timeout $((seconds + warmup + 120)) dotnet "$load_dll" "$@"; }

# field JSON NAME → the field's value ("" when absent or null)
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

rows=(put1 putN rangelin rangeser lock)
declare -A what args
what[put1]="put, 1 client"
what[putN]="put, $many clients"
what[rangelin]="range linearizable, $many clients"
what[rangeser]="range serializable, $many clients"
what[lock]="lock + unlock pairs, $lock_clients clients"
lock_conns=$((conns < lock_clients ? conns : lock_clients))
args[put1]="put --clients 1 --conns 1"
args[putN]="put --clients $many --conns $conns"
args[rangelin]="range --linearizable --clients $many --conns $conns"
args[rangeser]="range --serializable --clients $many --conns $conns"
args[lock]="lock --clients $lock_clients --conns $lock_conns"
results="$work/results.jsonl"   # one line per measurement: {"side":…,"row":…,"round":…,"result":{…}}
: >"$results"

# record SIDE ROW ROUND JSON
record() { python3 -c 'import json,sys; print(json.dumps({"side":sys.argv[1],"row":sys.argv[2],"round":int(sys.argv[3]),"result":json.loads(sys.argv[4])}))' "$@" >>"$results"; }

# run_row SIDE ROW ROUND: one measured row against SIDE's running cluster.
run_row() {
  local side=$1 row=$2 round=$3 line endpoints_var="${1}_endpoints"
  # shellcheck disable=SC2086 # args[] are flags, split on purpose
  line=$(load ${args[$row]} --endpoints "${!endpoints_var}" --seconds "$seconds" --warmup-seconds "$warmup") ||
    fail "$side: '${args[$row]}' failed"
  record "$side" "$row" "$round" "$line"
  echo "  round $round $side ${what[$row]}: $line" >&2
}

# ports N → N free ports, space-separated
ports() { local i p=(); for ((i = 0; i < $1; i++)); do p+=("$(free_port)"); done; echo "${p[*]}"; }

# Each side's members, by index: client endpoint and PID (the PID map the failover tool reads).
declare -a etcd_client_ports etcd_peer_ports bp_etcd_ports bp_raft_ports bp_http_ports
declare -A member_pid   # member_pid[side.i]
etcd_endpoints="" blueprint_endpoints="" etcd_cluster="" blueprint_cluster=""

start_etcd_member() {
  local i=$1 pid
  pid=$("$here/peers/etcd.sh" start "n$((i + 1))" "${etcd_client_ports[$i]}" "${etcd_peer_ports[$i]}" "$work/etcd/n$((i + 1))" "$etcd_cluster") ||
    fail "etcd member n$((i + 1)) did not start: $(tail -20 "$work/etcd/n$((i + 1))/etcd.log" 2>/dev/null)"
  started_pids+=("$pid")
  member_pid[etcd.$i]=$pid
}

start_blueprint_member() {
  local i=$1 dir="$work/blueprint/n$(($1 + 1))"
  mkdir -p "$dir"
  dotnet "$node_dll" run --modules coordination --node-id "n$((i + 1))" --initial-cluster "$blueprint_cluster" \
    --etcd-port "${bp_etcd_ports[$i]}" --raft-port "${bp_raft_ports[$i]}" --http-port "${bp_http_ports[$i]}" \
    --data-dir "$dir/data" >>"$dir/node.log" 2>&1 &
  started_pids+=("$!")
  member_pid[blueprint.$i]=$!
}

# port_of_member SIDE i → the client port of member i
client_port() { if [ "$1" = etcd ]; then echo "${etcd_client_ports[$2]}"; else echo "${bp_etcd_ports[$2]}"; fi; }

write_pid_map() {
  local side=$1 i
  : >"$work/$side.pids"
  for ((i = 0; i < members; i++)); do echo "http://127.0.0.1:$(client_port "$side" "$i") ${member_pid[$side.$i]}" >>"$work/$side.pids"; done
}

# wait_ready SIDE → the status JSON once every member answers and one leads (60 s at most), or fails
wait_ready() {
  local side=$1 endpoints_var="${1}_endpoints" status="" i
  for _ in $(seq 1 30); do
    for ((i = 0; i < members; i++)); do
      kill -0 "${member_pid[$side.$i]}" 2>/dev/null || { echo "member n$((i + 1)) exited" >&2; return 1; }
    done
    status=$(load status --endpoints "${!endpoints_var}" --wait-seconds 2 2>/dev/null) && { echo "$status"; return 0; }
  done
  echo "no leader with every member answering within 60 s" >&2
  return 1
}

# failover SIDE ROUND: SIGKILL the leader, time the first acknowledged put, then restart the killed member.
failover() {
  local side=$1 round=$2 line killed i endpoints_var="${1}_endpoints"
  write_pid_map "$side"
  line=$(load failover --endpoints "${!endpoints_var}" --pid-map "$work/$side.pids") || fail "$side: failover failed${line:+: $line}"
  record "$side" failover "$round" "$line"
  echo "  round $round $side failover: $line" >&2
  killed=$(field "$line" killed)
  for ((i = 0; i < members; i++)); do
    if [ "$killed" = "http://127.0.0.1:$(client_port "$side" "$i")" ]; then
      if [ "$side" = etcd ]; then start_etcd_member "$i"; else start_blueprint_member "$i"; fi
    fi
  done
  wait_ready "$side" >/dev/null || fail "$side: the cluster did not recover after restarting $killed"
}

etcd_version=""
blueprint_failed=""
if [ "$with_etcd" = 1 ]; then
  read -r -a etcd_client_ports <<<"$(ports $members)"
  read -r -a etcd_peer_ports <<<"$(ports $members)"
  for ((i = 0; i < members; i++)); do
    etcd_cluster+="${etcd_cluster:+,}n$((i + 1))=http://127.0.0.1:${etcd_peer_ports[$i]}"
    etcd_endpoints+="${etcd_endpoints:+,}http://127.0.0.1:${etcd_client_ports[$i]}"
  done
  for ((i = 0; i < members; i++)); do start_etcd_member "$i"; done
  status=$(wait_ready etcd) || fail "the etcd cluster has no leader; n1's log: $(tail -5 "$work/etcd/n1/etcd.log")"
  etcd_version=$(field "$status" version)
  echo "etcd $etcd_version: leader $(field "$status" leader)" >&2
fi

# Blueprint: one node per member, Raft ids 1..N in name order.
if [ "$with_blueprint" = 1 ]; then
  read -r -a bp_etcd_ports <<<"$(ports $members)"
  read -r -a bp_raft_ports <<<"$(ports $members)"
  read -r -a bp_http_ports <<<"$(ports $members)"
  for ((i = 0; i < members; i++)); do
    blueprint_cluster+="${blueprint_cluster:+,}n$((i + 1))=http://127.0.0.1:${bp_raft_ports[$i]}"
    blueprint_endpoints+="${blueprint_endpoints:+,}http://127.0.0.1:${bp_etcd_ports[$i]}"
  done
  for ((i = 0; i < members; i++)); do start_blueprint_member "$i"; done
  if status=$(wait_ready blueprint 2>"$work/blueprint.wait"); then
    echo "Blueprint: leader $(field "$status" leader)" >&2
  else
    blueprint_failed=$(cat "$work/blueprint.wait")
    with_blueprint=0
  fi
fi

sides_run=()
[ "$with_etcd" = 1 ] && sides_run+=(etcd)
[ "$with_blueprint" = 1 ] && sides_run+=(blueprint)

# Interleaved: each round runs every row on both sides back to back, in alternating order, so a change of
# background load lands on both sides rather than on one half of the run. Both clusters stay up throughout;
# the one not measured is idle (heartbeats only).
for ((round = 1; round <= rounds; round++)); do
  order=("${sides_run[@]}")
  if ((round % 2 == 0)) && [ ${#order[@]} -eq 2 ]; then order=("${order[1]}" "${order[0]}"); fi
  for row in "${rows[@]}"; do
    for side in "${order[@]}"; do run_row "$side" "$row" "$round"; done
  done
done
for ((round = 1; round <= failovers; round++)); do
  for side in "${sides_run[@]}"; do failover "$side" "$round"; done
done

both=$((${#sides_run[@]} == 2 ? 1 : 0))
echo "# coordination.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# $members members each on 127.0.0.1, fsync on both sides; ${seconds} s per row after ${warmup} s warm-up, $rounds interleaved rounds (median), $failovers failovers per side (median); $([ -n "$etcd_version" ] && echo "etcd $etcd_version (heartbeat 100 ms, election 1000 ms)" || echo "etcd not run"), .NET $(dotnet --version); ratios Blueprint/etcd"
echo
what_lines=""
for row in "${rows[@]}"; do what_lines+="$row=${what[$row]}"$'\n'; done
WHAT=$what_lines BOTH=$both python3 - "$results" "${rows[@]}" <<'PY' || exit 1
import json, os, statistics, sys
path, rows = sys.argv[1], sys.argv[2:]
what = {k: v for k, v in (line.split("=", 1) for line in os.environ["WHAT"].split("\n") if line)}
both = os.environ["BOTH"] == "1"
data = {}
for line in open(path):
    r = json.loads(line)
    data.setdefault((r["side"], r["row"]), []).append(r["result"])

def med(side, row, key):
    values = [r[key] for r in data.get((side, row), []) if r.get(key) is not None]
    return statistics.median(values) if values else None

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"

def num(v):
    return "" if v is None else f"{v:.0f}"

errors = []
if not data:
    print("(no rows: no cluster was measured)")
elif both:
    print("| workload | etcd ops/s | Blueprint ops/s | ratio (higher is better) | etcd p50 µs | Blueprint p50 µs | ratio (lower is better) | etcd p99 µs | Blueprint p99 µs | ratio (lower is better) | Blueprint ops/s ratio per round |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
else:
    print("| workload | side | ops/s | p50 µs | p99 µs |")
    print("|---|---|---|---|---|")
for row in rows:
    if both:
        eo, bo = med("etcd", row, "ops_per_s"), med("blueprint", row, "ops_per_s")
        e5, b5 = med("etcd", row, "p50_us"), med("blueprint", row, "p50_us")
        e9, b9 = med("etcd", row, "p99_us"), med("blueprint", row, "p99_us")
        per_round = " ".join(ratio(b["ops_per_s"], e["ops_per_s"]) for e, b in zip(data[("etcd", row)], data[("blueprint", row)]))
        print(f"| {what[row]} | {num(eo)} | {num(bo)} | **{ratio(bo, eo)}** | {num(e5)} | {num(b5)} | {ratio(b5, e5)} | {num(e9)} | {num(b9)} | {ratio(b9, e9)} | {per_round} |")
    else:
        for side in ("etcd", "blueprint"):
            if (side, row) in data:
                print(f"| {what[row]} | {side} | {num(med(side, row, 'ops_per_s'))} | {num(med(side, row, 'p50_us'))} | {num(med(side, row, 'p99_us'))} |")
    for side in ("etcd", "blueprint"):
        for r in data.get((side, row), []):
            if r.get("errors"):
                errors.append(f"{side} {what[row]}: {r['errors']} RPC errors")
if any(side_row[1] == "failover" for side_row in data):
    print()
    print("| failover: SIGKILL the leader → first acknowledged Put | ms, median (lower is better) | every sample, ms | failed Puts after the kill (median) |")
    print("|---|---|---|---|")
    for side in ("etcd", "blueprint"):
        samples = data.get((side, "failover"), [])
        if samples:
            print(f"| {side} | {num(med(side, 'failover', 'recovery_ms'))} | {' '.join(num(s['recovery_ms']) for s in samples)} | {num(med(side, 'failover', 'failed_puts_after_kill'))} |")
    if both:
        print()
        print(f"Failover ratio Blueprint/etcd (lower is better): {ratio(med('blueprint', 'failover', 'recovery_ms'), med('etcd', 'failover', 'recovery_ms'))}")
for e in errors:
    print(f"coordination.sh: FAILED — {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY

if [ -n "$blueprint_failed" ]; then
  echo "coordination.sh: FAILED — the Blueprint cluster did not start: $blueprint_failed" >&2
  for ((i = 0; i < members; i++)); do
    echo "--- n$((i + 1)) log (last 30 lines) ---" >&2
    tail -30 "$work/blueprint/n$((i + 1))/node.log" >&2 2>/dev/null || true
  done
  exit 1
fi
