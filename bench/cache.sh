#!/usr/bin/env bash
# Side by side: a Blueprint KV cluster (three nodes, each forming the Redis Cluster itself) against a
# redis-server 7 cluster of three primaries, one run, same machine, same load from
# `redis-benchmark --cluster` (which reads CLUSTER NODES / SLOTS and spreads its clients over the
# primaries, each client using keys of its primary's slots). Two pairings:
#   memory  — 3 nodes, Kv:Persistence=false, no replicas
#             vs 3 redis-servers --save "" --appendonly no, no replicas
#   durable — 3 nodes with the node's defaults (append-only file, commit issued per operation) and
#             --kv-replica-port (each node also replicates the next member's primary: 3 + 3)
#             vs 6 redis-servers --appendonly yes --appendfsync everysec, --cluster-replicas 1
# Prints requests/s (median of three alternating rounds, after a warm-up) for SET and GET at 50
# clients without and with -P 16, and the ratios (Blueprint / redis; above 1.0 Blueprint is faster).
# Then the near-cache line from `blueprint lab local-vs-distributed-cache --json` when this build
# has that experiment. Usage: bash bench/cache.sh [requests]   (default 50000; -P 16 runs use 5×)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
requests=${1:-50000}
dll="$here/../src/Blueprint.Node/bin/Release/net10.0/blueprint.dll"
work=$(mktemp -d)
bp_dirs=() redis_dirs=()
stop_all() {
  local d
  for d in ${bp_dirs[@]+"${bp_dirs[@]}"}; do "$here/peers/blueprint.sh" stop "$d" || true; done
  for d in ${redis_dirs[@]+"${redis_dirs[@]}"}; do "$here/peers/redis.sh" stop "$d" || true; done
  bp_dirs=() redis_dirs=()
}
cleanup() { stop_all; rm -rf "$work"; }
trap cleanup EXIT

"$here/peers/redis.sh" install
"$here/peers/blueprint.sh" build

# wait_cluster PORT PRIMARIES REPLICAS: until every listed node answers cluster_state:ok and
# CLUSTER NODES (asked of PORT) shows PRIMARIES primaries owning slots and REPLICAS replicas whose
# link to their primary is up. 120 s at most.
wait_cluster() {
  local port=$1 primaries=$2 replicas=$3 nodes p ok
  for _ in $(seq 1 240); do
    nodes=$(redis-cli -p "$port" cluster nodes 2>/dev/null || true)
    ok=1
    for p in $(awk '{ split($2, a, "[:@]"); print a[2] }' <<<"$nodes"); do
      redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
    done
    if [ "$ok" = 1 ] \
      && [ "$(awk '$3 ~ /master/ && $9 != "" && $8 == "connected"' <<<"$nodes" | wc -l)" = "$primaries" ] \
      && [ "$(awk '$3 ~ /slave/ && $8 == "connected"' <<<"$nodes" | wc -l)" = "$replicas" ]; then
      local up=0
      for p in $(awk '$3 ~ /slave/ { split($2, a, "[:@]"); print a[2] }' <<<"$nodes"); do
        redis-cli -p "$p" info replication 2>/dev/null | grep -q '^master_link_status:up' && up=$((up + 1))
      done
      [ "$up" = "$replicas" ] && return 0
    fi
    sleep 0.5
  done
  echo "cluster on port $port did not form: $nodes" >&2
  return 1
}

# start_blueprint PAIRING: sets bport, the first primary's RESP port. Three nodes started at once;
# each forms the cluster with its peers (member i owns the i-th slot range).
start_blueprint() {
  local pairing=$1 ports=() pids=() i members flags pid
  for i in 0 1 2; do ports+=("$(free_port)"); done
  members="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
  for i in 0 1 2; do
    flags=(--modules kv --kv-cluster true --kv-cluster-members "$members")
    if [ "$pairing" = memory ]; then
      BLUEPRINT_Kv__Persistence=false "$here/peers/blueprint.sh" start "$(free_port)" "${ports[$i]}" "$work/bp$i" "${flags[@]}" >/dev/null &
    else
      "$here/peers/blueprint.sh" start "$(free_port)" "${ports[$i]}" "$work/bp$i" "${flags[@]}" --kv-replica-port "$(free_port)" >/dev/null &
    fi
    pids+=($!)
    bp_dirs+=("$work/bp$i")
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  if [ "$pairing" = memory ]; then wait_cluster "${ports[0]}" 3 0; else wait_cluster "${ports[0]}" 3 3; fi
  bport=${ports[0]}
}

# start_redis PAIRING: sets rport, the first primary's port. Three (memory) or six (durable)
# redis-servers in cluster mode, joined by redis-cli --cluster create.
start_redis() {
  local pairing=$1 n=3 replicas=0 ports=() i dir persistence
  persistence=(--save "" --appendonly no)
  if [ "$pairing" = durable ]; then n=6 replicas=1 persistence=(--save "" --appendonly yes --appendfsync everysec); fi
  for i in $(seq 0 $((n - 1))); do
    ports+=("$(free_port)")
    dir="$work/redis$i"
    mkdir -p "$dir"
    # The bus port is chosen too: the default, port + 10000, may be above 65535 or taken.
    redis-server --port "${ports[$i]}" --cluster-port "$(free_port)" --bind 127.0.0.1 --dir "$dir" --cluster-enabled yes \
      --cluster-config-file "nodes-${ports[$i]}.conf" "${persistence[@]}" \
      --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
    echo $! >"$dir/redis.pid"
    redis_dirs+=("$dir")
  done
  for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 1 100); do redis-cli -p "${ports[$i]}" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas "$replicas" --cluster-yes >"$work/redis-create.log" 2>&1 \
    || { cat "$work/redis-create.log" >&2; return 1; }
  wait_cluster "${ports[0]}" 3 $((3 * replicas))
  rport=${ports[0]}
}

# once PORT PIPELINE N: sets o_set and o_get (requests per second); fails when redis-benchmark
# reports an error or no result.
once() {
  local out
  out=$(redis-benchmark --cluster -h 127.0.0.1 -p "$1" -c 50 -n "$3" -P "$2" -t set,get -r 100000 -d 16 --csv 2>"$work/bench.err")
  if grep -qi 'error' "$work/bench.err"; then
    echo "redis-benchmark against port $1: $(head -3 "$work/bench.err")" >&2
    return 1
  fi
  read -r o_set o_get < <(awk -F'","' '/^"SET"/ { gsub(/"/, "", $2); s = $2 } /^"GET"/ { gsub(/"/, "", $2); g = $2 } END { print s, g }' <<<"$out")
  if [ -z "$o_set" ] || [ -z "$o_get" ]; then
    echo "redis-benchmark against port $1 gave no result: $out $(head -3 "$work/bench.err")" >&2
    return 1
  fi
}

median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# pair PIPELINE: sets bset bget rset rget, the median of three rounds, the two clusters alternating
# (B R, R B, B R) so both see the same background load.
pair() {
  local n=$requests bs=() bg=() rs=() rg=() round side
  [ "$1" -gt 1 ] && n=$((requests * 5))
  for round in 1 2 3; do
    for side in $([ "$round" = 2 ] && echo r b || echo b r); do
      if [ "$side" = b ]; then
        once "$bport" "$1" "$n"; bs+=("$o_set"); bg+=("$o_get")
      else
        once "$rport" "$1" "$n"; rs+=("$o_set"); rg+=("$o_get")
      fi
    done
  done
  bset=$(median3 "${bs[@]}") bget=$(median3 "${bg[@]}") rset=$(median3 "${rs[@]}") rget=$(median3 "${rg[@]}")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# cache.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME"), $(redis-server --version | awk '{ print $1, $3 }')"
echo "# redis-benchmark --cluster -c 50 -n $requests (-P 16: -n $((requests * 5))) -t set,get -r 100000 -d 16"
echo
echo "| pairing | pipeline | op | Blueprint cluster req/s | redis cluster req/s | ratio |"
echo "|---|---|---|---|---|---|"
for pairing in memory durable; do
  start_blueprint "$pairing"
  start_redis "$pairing"
  # Warm-up, not measured: the nodes' JIT reaches its optimized tier; redis gets the same load.
  once "$bport" 1 50000; once "$rport" 1 50000
  for pipeline in 1 16; do
    pair "$pipeline"
    echo "| $pairing | $pipeline | SET | $bset | $rset | $(ratio "$bset" "$rset") |"
    echo "| $pairing | $pipeline | GET | $bget | $rget | $(ratio "$bget" "$rget") |"
  done
  stop_all
  rm -rf "$work"/bp* "$work"/redis*
done
echo
echo "Load average (1, 5, 15 min): $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."

# Near cache: a near-cache hit against a network GET, from the lab experiment (goal ≥ 100×).
echo
if dotnet "$dll" lab list 2>/dev/null | grep -q '^local-vs-distributed-cache\b'; then
  dotnet "$dll" lab local-vs-distributed-cache --json >"$work/lab.json"
  jq -r '.claims[] | select(.id == "near-hit-100x")
         | "Near cache (lab local-vs-distributed-cache): \(.measured) — goal \(.expected): \(if .holds then "met" else "NOT met" end)"' "$work/lab.json"
else
  echo "Near cache: skipped — this build has no lab experiment local-vs-distributed-cache."
fi
