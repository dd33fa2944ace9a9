#!/usr/bin/env bash
# Side by side: the embedded KV (Garnet in a Blueprint node) against redis-server, one run, same
# machine, same load from redis-benchmark. Three pairings, each with like durability on both sides:
#   memory   — node with Kv:Persistence=false          vs redis-server --save "" --appendonly no
#   everysec — node with Kv:AofCommitFrequencyMs=1000  vs redis-server --appendonly yes --appendfsync everysec
#   per-op   — node defaults (AOF commit per operation) vs redis-server --appendonly yes --appendfsync always
# Prints requests/s (median of three alternating rounds, after a warm-up) for SET and GET at 50
# clients without and with -P 16, and the ratios
# (Blueprint / redis-server; above 1.0 means Blueprint is faster). Also the idle RSS of a node
# running kv + sql. Usage: bench/kv.sh [requests]   (default 200000; pipelined runs use 5×)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
requests=${1:-200000}
work=$(mktemp -d)
cleanup() {
  "$here/peers/blueprint.sh" stop "$work/node" || true
  "$here/peers/redis.sh" stop "$work/redis" || true
  rm -rf "$work"
}
trap cleanup EXIT


"$here/peers/redis.sh" install
"$here/peers/blueprint.sh" build

# once PORT PIPELINE N → "set get" requests per second
once() {
  redis-benchmark -h 127.0.0.1 -p "$1" -c 50 -n "$3" -P "$2" -t set,get -r 100000 -d 16 --csv 2>/dev/null \
    | awk -F'","' 'NR>1 { gsub(/"/, "", $2); printf "%s ", $2 } END { print "" }'
}

median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# pair BLUEPRINT_PORT REDIS_PORT PIPELINE → "bset bget rset rget": the median of three rounds,
# the two servers alternating within each round so both see the same background load.
pair() {
  local n=$requests bs=() bg=() rs=() rg=()
  [ "$3" -gt 1 ] && n=$((requests * 5))
  for _ in 1 2 3; do
    read -r s g < <(once "$1" "$3" "$n"); bs+=("$s"); bg+=("$g")
    read -r s g < <(once "$2" "$3" "$n"); rs+=("$s"); rg+=("$g")
  done
  echo "$(median3 "${bs[@]}") $(median3 "${bg[@]}") $(median3 "${rs[@]}") $(median3 "${rg[@]}")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "# kv.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# redis-benchmark -c 50 -n $requests (-P 16: -n $((requests * 5))) -t set,get -r 100000 -d 16"
echo
echo "| pairing | pipeline | op | Blueprint req/s | redis-server req/s | ratio |"
echo "|---|---|---|---|---|---|"
for pairing in memory everysec per-op; do
  node_flags=(--modules kv)
  unset BLUEPRINT_Kv__Persistence BLUEPRINT_Kv__AofCommitFrequencyMs
  case "$pairing" in
    memory)   export BLUEPRINT_Kv__Persistence=false REDIS_PERSISTENCE=none ;;
    everysec) export BLUEPRINT_Kv__AofCommitFrequencyMs=1000 REDIS_PERSISTENCE=everysec ;;
    per-op)   export REDIS_PERSISTENCE=always ;;
  esac
  resp=$(free_port); http=$(free_port); rport=$(free_port)
  "$here/peers/blueprint.sh" start "$http" "$resp" "$work/node" "${node_flags[@]}" >/dev/null
  "$here/peers/redis.sh" start "$rport" "$work/redis" >/dev/null
  # Warm-up, not measured: the node's JIT reaches its optimized tier; redis gets the same load.
  once "$resp" 1 50000 >/dev/null; once "$rport" 1 50000 >/dev/null
  for pipeline in 1 16; do
    read -r bset bget rset rget < <(pair "$resp" "$rport" "$pipeline")
    echo "| $pairing | $pipeline | SET | $bset | $rset | $(ratio "$bset" "$rset") |"
    echo "| $pairing | $pipeline | GET | $bget | $rget | $(ratio "$bget" "$rget") |"
  done
  "$here/peers/blueprint.sh" stop "$work/node"
  "$here/peers/redis.sh" stop "$work/redis"
  rm -rf "$work/node" "$work/redis"
done
unset BLUEPRINT_Kv__Persistence BLUEPRINT_Kv__AofCommitFrequencyMs REDIS_PERSISTENCE

# Idle RSS of a node with kv + sql (defaults), after it has been ready and idle for 10 s.
resp=$(free_port); http=$(free_port)
pid=$("$here/peers/blueprint.sh" start "$http" "$resp" "$work/node" --modules kv,sql)
sleep 10
rss_kb=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
echo
echo "Idle RSS, node with kv + sql: $((rss_kb / 1024)) MB"
