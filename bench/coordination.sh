#!/usr/bin/env bash
# The coordination module measured side by side with etcd 3.4, one run on one machine, everything on
# 127.0.0.1: a 3-member etcd cluster, then a 3-member Blueprint cluster (a node per member running only the
# coordination module), each driven by the same etcd v3 gRPC client (bench/Blueprint.EtcdLoad) with the
# same rows:
#   put 1       Put of an 8-byte key (pool of 10 000) and a 256-byte value to the leader, 1 client, 1 connection;
#   put N       the same with MANY_CLIENTS clients over CONNS connections;
#   range lin   linearizable Range of one key, MANY_CLIENTS clients spread over the three members;
#   range ser   the same, serializable (a member's local read);
#   lock        etcd's mutex recipe uncontended: a lease per client, then Txn(create_revision == 0 →
#               Put with the lease) and DeleteRange, LOCK_CLIENTS clients on their own keys; pairs/s;
#   failover    Puts to every member every 10 ms (200 ms deadline each) while the leader is killed with
#               SIGKILL: milliseconds from the kill to the first acknowledged Put issued after it.
# Durability is alike on both sides: etcd fsyncs its WAL before it acknowledges (its default; 3.4 has no
# switch to turn that off), and so does Blueprint's Raft log. etcd runs with its default heartbeat (100 ms)
# and election timeout (1000 ms); Blueprint with its own defaults — failover mostly measures those.
# Every row runs WARMUP_SECONDS unmeasured first. The halves run one after the other (etcd stopped before
# Blueprint starts), not interleaved, so a change of background load between them shows in the ratios.
# Ratios are Blueprint / etcd: above 1 is better for ops/s, below 1 is better for latency and failover.
# Any RPC error in a row fails the run after the tables; a Blueprint cluster that does not start prints
# its members' log tails and fails the run, with etcd's numbers printed alone.
# Installs etcd (etcd-server, etcd-client) with apt-get when missing. About 3 minutes with the defaults.
# Usage: bench/coordination.sh   (env: SECONDS_PER_ROW=10, WARMUP_SECONDS=2, MANY_CLIENTS=64, CONNS=8,
#                                 LOCK_CLIENTS=16, SIDES=etcd,blueprint — SIDES=etcd measures etcd alone)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
seconds=${SECONDS_PER_ROW:-10}
warmup=${WARMUP_SECONDS:-2}
many=${MANY_CLIENTS:-64}
conns=${CONNS:-8}
lock_clients=${LOCK_CLIENTS:-16}
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

for n in "$seconds" "$warmup" "$many" "$conns" "$lock_clients"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "coordination.sh: SECONDS_PER_ROW, WARMUP_SECONDS, MANY_CLIENTS, CONNS and LOCK_CLIENTS are whole numbers, got '$n'" >&2; exit 2; }
done
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
declare -A result   # result[side.row] = the tool's JSON line

# measure SIDE ENDPOINTS PIDMAP: every row, then the failover (which leaves the cluster one member short).
measure() {
  local side=$1 endpoints=$2 pidmap=$3 row line
  for row in "${rows[@]}"; do
    # shellcheck disable=SC2086 # args[] are flags, split on purpose
    line=$(load ${args[$row]} --endpoints "$endpoints" --seconds "$seconds" --warmup-seconds "$warmup") ||
      fail "$side: '${args[$row]}' failed"
    result[$side.$row]=$line
    echo "  $side ${what[$row]}: $line" >&2
  done
  line=$(load failover --endpoints "$endpoints" --pid-map "$pidmap") || fail "$side: failover failed${line:+: $line}"
  result[$side.failover]=$line
  echo "  $side failover: $line" >&2
}

# ports N → N free ports, space-separated
ports() { local i p=(); for ((i = 0; i < $1; i++)); do p+=("$(free_port)"); done; echo "${p[*]}"; }

etcd_version=""
if [ "$with_etcd" = 1 ]; then
  read -r -a client_ports <<<"$(ports $members)"
  read -r -a peer_ports <<<"$(ports $members)"
  cluster="" endpoints=""
  : >"$work/etcd.pids"
  for ((i = 0; i < members; i++)); do cluster+="${cluster:+,}n$((i + 1))=http://127.0.0.1:${peer_ports[$i]}"; done
  for ((i = 0; i < members; i++)); do
    pid=$("$here/peers/etcd.sh" start "n$((i + 1))" "${client_ports[$i]}" "${peer_ports[$i]}" "$work/etcd/n$((i + 1))" "$cluster") ||
      fail "etcd member n$((i + 1)) did not start: $(tail -20 "$work/etcd/n$((i + 1))/etcd.log" 2>/dev/null)"
    started_pids+=("$pid")
    endpoints+="${endpoints:+,}http://127.0.0.1:${client_ports[$i]}"
    echo "http://127.0.0.1:${client_ports[$i]} $pid" >>"$work/etcd.pids"
  done
  status=$(load status --endpoints "$endpoints" --wait-seconds 30) ||
    fail "the etcd cluster has no leader; n1's log: $(tail -5 "$work/etcd/n1/etcd.log")"
  etcd_version=$(field "$status" version)
  echo "etcd $etcd_version: leader $(field "$status" leader)" >&2
  measure etcd "$endpoints" "$work/etcd.pids"
  for ((i = 0; i < members; i++)); do "$here/peers/etcd.sh" stop "$work/etcd/n$((i + 1))"; done
fi

# Blueprint: one node per member, Raft ids 1..N in name order; until every member answers Maintenance.Status
# and one leads (60 s at most), or a member exits.
blueprint_failed=""
if [ "$with_blueprint" = 1 ]; then
  read -r -a etcd_ports <<<"$(ports $members)"
  read -r -a raft_ports <<<"$(ports $members)"
  read -r -a http_ports <<<"$(ports $members)"
  cluster="" endpoints=""
  member_pids=()
  : >"$work/blueprint.pids"
  for ((i = 0; i < members; i++)); do cluster+="${cluster:+,}n$((i + 1))=http://127.0.0.1:${raft_ports[$i]}"; done
  for ((i = 0; i < members; i++)); do
    dir="$work/blueprint/n$((i + 1))"
    mkdir -p "$dir"
    dotnet "$node_dll" run --modules coordination --node-id "n$((i + 1))" --initial-cluster "$cluster" \
      --etcd-port "${etcd_ports[$i]}" --raft-port "${raft_ports[$i]}" --http-port "${http_ports[$i]}" \
      --data-dir "$dir/data" >"$dir/node.log" 2>&1 &
    started_pids+=("$!")
    member_pids+=("$!")
    endpoints+="${endpoints:+,}http://127.0.0.1:${etcd_ports[$i]}"
    echo "http://127.0.0.1:${etcd_ports[$i]} $!" >>"$work/blueprint.pids"
  done
  status=""
  for _ in $(seq 1 30); do
    for ((i = 0; i < members; i++)); do
      kill -0 "${member_pids[$i]}" 2>/dev/null || { blueprint_failed="member n$((i + 1)) exited"; break 2; }
    done
    status=$(load status --endpoints "$endpoints" --wait-seconds 2 2>/dev/null) && break
    status=""
  done
  [ -n "$status$blueprint_failed" ] || blueprint_failed="no leader with every member answering within 60 s"
  if [ -z "$blueprint_failed" ]; then
    echo "Blueprint: leader $(field "$status" leader)" >&2
    measure blueprint "$endpoints" "$work/blueprint.pids"
  fi
  for pid in "${member_pids[@]}"; do stop_pid "$pid"; done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
get() { [ -n "${result[$1.$2]:-}" ] && field "${result[$1.$2]}" "$3" || true; }
# per_s SIDE ROW → ops/s as a whole number
per_s() { local v; v=$(get "$1" "$2" ops_per_s); [ -z "$v" ] || printf '%.0f' "$v"; }

both=$((with_etcd && with_blueprint && ${#blueprint_failed} == 0 ? 1 : 0))
echo "# coordination.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# $members members each on 127.0.0.1, fsync on both sides; ${seconds} s per row after ${warmup} s warm-up; $([ -n "$etcd_version" ] && echo "etcd $etcd_version (heartbeat 100 ms, election 1000 ms)" || echo "etcd not run"), .NET $(dotnet --version); ratios Blueprint/etcd"
echo
[ ${#result[@]} -gt 0 ] || echo "(no rows: no cluster was measured)"
errors=()
if [ ${#result[@]} -eq 0 ]; then
  rows=()
elif [ "$both" = 1 ]; then
  echo "| workload | etcd ops/s | Blueprint ops/s | ratio (higher is better) | etcd p50 µs | Blueprint p50 µs | ratio (lower is better) | etcd p99 µs | Blueprint p99 µs | ratio (lower is better) | errors etcd / Blueprint |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
else
  echo "| workload | side | ops/s | p50 µs | p99 µs | errors |"
  echo "|---|---|---|---|---|---|"
fi
for row in "${rows[@]}"; do
  if [ "$both" = 1 ]; then
    eo=$(per_s etcd "$row") bo=$(per_s blueprint "$row")
    e5=$(get etcd "$row" p50_us) b5=$(get blueprint "$row" p50_us)
    e9=$(get etcd "$row" p99_us) b9=$(get blueprint "$row" p99_us)
    echo "| ${what[$row]} | $eo | $bo | $(ratio "$bo" "$eo") | $e5 | $b5 | $(ratio "$b5" "$e5") | $e9 | $b9 | $(ratio "$b9" "$e9") | $(get etcd "$row" errors) / $(get blueprint "$row" errors) |"
  else
    for side in etcd blueprint; do
      [ -n "${result[$side.$row]:-}" ] || continue
      echo "| ${what[$row]} | $side | $(per_s $side "$row") | $(get $side "$row" p50_us) | $(get $side "$row" p99_us) | $(get $side "$row" errors) |"
    done
  fi
  for side in etcd blueprint; do
    e=$(get $side "$row" errors)
    [ -z "$e" ] || [ "$e" = 0 ] || errors+=("$side ${what[$row]}: $e RPC errors")
  done
done
if [ ${#result[@]} -gt 0 ]; then
  echo
  echo "| failover: SIGKILL the leader → first acknowledged Put | side | ms (lower is better) | failed Puts after the kill | via |"
  echo "|---|---|---|---|---|"
  for side in etcd blueprint; do
    [ -n "${result[$side.failover]:-}" ] || continue
    echo "| killed $(get $side failover killed) | $side | $(get $side failover recovery_ms) | $(get $side failover failed_puts_after_kill) | $(get $side failover recovered_via) |"
  done
fi
if [ "$both" = 1 ]; then
  echo
  echo "Failover ratio Blueprint/etcd (lower is better): $(ratio "$(get blueprint failover recovery_ms)" "$(get etcd failover recovery_ms)")"
fi

if [ -n "$blueprint_failed" ]; then
  echo "coordination.sh: FAILED — the Blueprint cluster did not start: $blueprint_failed" >&2
  for ((i = 0; i < members; i++)); do
    echo "--- n$((i + 1)) log (last 30 lines) ---" >&2
    tail -30 "$work/blueprint/n$((i + 1))/node.log" >&2 2>/dev/null || true
  done
  exit 1
fi
if [ ${#errors[@]} -gt 0 ]; then
  printf 'coordination.sh: FAILED — %s\n' "${errors[@]}" >&2
  exit 1
fi
