#!/usr/bin/env bash
# Side by side: the embedded KV (Garnet in a Blueprint node) against redis-server, one run, same
# machine, same load from redis-benchmark. Two pairings, so neither side is compared with its
# durability switched off against the other's switched on:
#   memory  — node with Kv:Persistence=false     vs redis-server --save "" --appendonly no
#   durable — node defaults (AOF, commit per op) vs redis-server --appendonly yes --appendfsync everysec
# Prints requests/s for SET and GET at 50 clients without and with -P 16, and the ratios
# (Blueprint / redis-server; above 1.0 means Blueprint is faster). Also the idle RSS of a node
# running kv + sql. Usage: bench/kv.sh [requests]   (default 200000; pipelined runs use 5×)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
requests=${1:-200000}
work=$(mktemp -d)
cleanup() {
  "$here/peers/blueprint.sh" stop "$work/node" || true
  "$here/peers/redis.sh" stop "$work/redis" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

"$here/peers/redis.sh" install
"$here/peers/blueprint.sh" build

# bench PORT PIPELINE → "set get" requests per second
bench() {
  local port=$1 pipeline=$2 n=$requests
  [ "$pipeline" -gt 1 ] && n=$((requests * 5))
  redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$n" -P "$pipeline" -t set,get -r 100000 -d 16 --csv 2>/dev/null \
    | awk -F'","' 'NR>1 { gsub(/"/, "", $2); printf "%s ", $2 } END { print "" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "# kv.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# redis-benchmark -c 50 -n $requests (-P 16: -n $((requests * 5))) -t set,get -r 100000 -d 16"
echo
echo "| pairing | pipeline | op | Blueprint req/s | redis-server req/s | ratio |"
echo "|---|---|---|---|---|---|"
for pairing in memory durable; do
  node_flags=(--modules kv)
  [ "$pairing" = memory ] && export BLUEPRINT_Kv__Persistence=false || unset BLUEPRINT_Kv__Persistence
  [ "$pairing" = durable ] && export REDIS_PERSISTENCE=aof || export REDIS_PERSISTENCE=none
  resp=$(free_port); http=$(free_port); rport=$(free_port)
  "$here/peers/blueprint.sh" start "$http" "$resp" "$work/node" "${node_flags[@]}" >/dev/null
  "$here/peers/redis.sh" start "$rport" "$work/redis" >/dev/null
  for pipeline in 1 16; do
    read -r bset bget < <(bench "$resp" "$pipeline")
    read -r rset rget < <(bench "$rport" "$pipeline")
    echo "| $pairing | $pipeline | SET | $bset | $rset | $(ratio "$bset" "$rset") |"
    echo "| $pairing | $pipeline | GET | $bget | $rget | $(ratio "$bget" "$rget") |"
  done
  "$here/peers/blueprint.sh" stop "$work/node"
  "$here/peers/redis.sh" stop "$work/redis"
  rm -rf "$work/node" "$work/redis"
done
unset BLUEPRINT_Kv__Persistence REDIS_PERSISTENCE

# Idle RSS of a node with kv + sql (defaults), after it has been ready and idle for 10 s.
resp=$(free_port); http=$(free_port)
pid=$("$here/peers/blueprint.sh" start "$http" "$resp" "$work/node" --modules kv,sql)
sleep 10
rss_kb=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
echo
echo "Idle RSS, node with kv + sql: $((rss_kb / 1024)) MB"
