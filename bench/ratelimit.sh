#!/usr/bin/env bash
# The ratelimit module measured side by side, one run on one machine, everything on 127.0.0.1:
#   (a) Blueprint's client (KvRateLimitStore.DecideAsync) against a node's embedded KV: decisions/s and
#       p50/p99 at 16 and 64 concurrent callers, token bucket and GCRA, random keys from a pool of
#       10 000, a limit so high that nothing is denied (bench/Blueprint.Benchmarks, mode "ratelimit");
#   (b) the same script by raw EVALSHA through StackExchange.Redis, keys and arguments prepared once:
#       one round trip per decision and nothing else. (a)/(b) is the client's efficiency; goal ≥ 0.9;
#   (c) POST /v1/ratelimit/check with wrk (a random user per request, same pool);
#   (d) the node's own "/" behind the rate-limiting middleware (RateLimit:Http:Enabled=true, one
#       remote_address rule with a high limit: one decision per request) against a second node with
#       the middleware off; with/without, goal ≥ 0.8;
#   (e) for reference, nginx limit_req (a zone at 1 000 000 r/s, burst as large) serving a static file,
#       against the same nginx without limit_req.
# The nodes run kv + ratelimit with Kv:Persistence=false (counters are ephemeral). (a) and (b) share
# one process and alternate within each round (median of RL_ROUNDS rounds). Each wrk row is the best of
# two runs; compared rows alternate A B B A so both sides see the same background load.
# Installs wrk and nginx with apt-get when missing. About 3 minutes on 2 cores.
# Usage: bench/ratelimit.sh     (env: RL_SECONDS=2 per round, RL_ROUNDS=3, WRK_SECONDS=3 per wrk run)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
seconds=${RL_SECONDS:-2}
rounds=${RL_ROUNDS:-3}
wrk_seconds=${WRK_SECONDS:-3}
callers=(16 64)
keys=10000
bench_dll="$root/bench/Blueprint.Benchmarks/bin/Release/net10.0/Blueprint.Benchmarks.dll"
work=$(mktemp -d)
nginx_pid=""
cleanup() {
  "$here/peers/blueprint.sh" stop "$work/batched" || true
  "$here/peers/blueprint.sh" stop "$work/limited" || true
  "$here/peers/blueprint.sh" stop "$work/plain" || true
  if [ -n "$nginx_pid" ]; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT


require_tools wrk:wrk nginx:nginx-light
"$here/peers/blueprint.sh" build
dotnet build -c Release "$root/bench/Blueprint.Benchmarks" -v quiet -nologo >/dev/null

# Both domains allow a million per second per key, so nothing is ever denied.
export BLUEPRINT_Kv__Persistence=false
export BLUEPRINT_RateLimit__Rules='domains:
  - domain: api
    descriptors:
      - key: user
        rate_limit: { unit: second, requests_per_unit: 1000000 }
        algorithm: token_bucket
  - domain: http
    descriptors:
      - key: remote_address
        rate_limit: { unit: second, requests_per_unit: 1000000 }
        algorithm: token_bucket
'

# start_node NAME HTTP_ENABLED → "HTTP_PORT RESP_PORT" of a started node
start_node() {
  local http resp
  http=$(free_port); resp=$(free_port)
  BLUEPRINT_RateLimit__GrpcPort=$(free_port) BLUEPRINT_RateLimit__Http__Enabled=$2 \
    "$here/peers/blueprint.sh" start "$http" "$resp" "$work/$1" --modules kv,ratelimit >/dev/null
  echo "$http $resp"
}

# wrk: requests/s, p50 and p99 in µs, and failures (socket errors and non-2xx/3xx answers).
cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk_result %.0f %.0f %.0f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
EOF
cat >"$work/check.lua" <<EOF
-- POST /v1/ratelimit/check for a random user of a fixed pool.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time())
request = function()
  local body = '{"domain":"api","descriptors":[{"entries":[{"key":"user","value":"u' .. math.random($keys) .. '"}]}]}'
  return wrk.format(nil, nil, nil, body)
end
$(cat "$work/report.lua")
EOF

# load URL CONNECTIONS SCRIPT [SECONDS] → "rps p50 p99 failures" of one wrk run
load() {
  local threads=$(($(nproc) < $2 ? $(nproc) : $2)) d=${4:-$wrk_seconds}
  timeout $((d + 30)) wrk -t "$threads" -c "$2" -d "${d}s" -s "$3" "$1" | awk '/^wrk_result/ { print $2, $3, $4, $5 }'
}

# best LINE… → the line with the most requests/s; failures summed over all of them
best() { printf '%s\n' "$@" | awk '{ f += $4 } $1 > r { r = $1; l = $2; h = $3 } END { print r + 0, l + 0, h + 0, f + 0 }'; }

# pair URL_A URL_B CONNECTIONS SCRIPT → "A-line B-line": best of two runs each, in the order A B B A
pair() {
  local a1 b1 b2 a2
  a1=$(load "$1" "$3" "$4"); b1=$(load "$2" "$3" "$4"); b2=$(load "$2" "$3" "$4"); a2=$(load "$1" "$3" "$4")
  echo "$(best "$a1" "$a2") $(best "$b1" "$b2")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"); }

# (a) and (b): one process, one multiplexer, variants alternating within each round.
ports=$(start_node limited true)
read -r lhttp lresp <<<"$ports"
budget=$((8 + ${#callers[@]} * rounds * 4 * (seconds + 1) + 60))
declare -A ops p50 p99 failed
while read -r _ variant c rate l50 l99 denied errors; do
  ops[$variant,$c]=$rate; p50[$variant,$c]=$l50; p99[$variant,$c]=$l99; failed[$variant,$c]=$((denied + errors))
done < <(timeout "$budget" dotnet "$bench_dll" ratelimit --endpoint "127.0.0.1:$lresp" --seconds "$seconds" \
  --rounds "$rounds" --concurrency "$(IFS=,; echo "${callers[*]}")" --keys "$keys" | grep '^result ')
[ -n "${ops[store-token-bucket,${callers[0]}]:-}" ] || { echo "the ratelimit load mode reported nothing" >&2; exit 1; }
for c in "${callers[@]}"; do
  for algorithm in token-bucket gcra; do
    s=store-$algorithm r=raw-$algorithm
    row "a" "client DecideAsync, ${algorithm/-/ }" "$c" "${ops[$s,$c]}" "${p50[$s,$c]}" "${p99[$s,$c]}" \
      "$(ratio "${ops[$s,$c]}" "${ops[$r,$c]}") vs raw EVALSHA (goal ≥ 0.9)" "${failed[$s,$c]}"
    row "b" "raw EVALSHA, ${algorithm/-/ }" "$c" "${ops[$r,$c]}" "${p50[$r,$c]}" "${p99[$r,$c]}" "" "${failed[$r,$c]}"
  done
done

# (c) the HTTP check endpoint.
# Warm-up, not measured: under load the node takes seconds to reach its optimized JIT tier here.
load "http://127.0.0.1:$lhttp/v1/ratelimit/check" 16 "$work/check.lua" 10 >/dev/null
for c in "${callers[@]}"; do
  read -r rps l50 l99 fails < <(best "$(load "http://127.0.0.1:$lhttp/v1/ratelimit/check" "$c" "$work/check.lua")" \
    "$(load "http://127.0.0.1:$lhttp/v1/ratelimit/check" "$c" "$work/check.lua")")
  row "c" "POST /v1/ratelimit/check" "$c" "$rps" "$l50" "$l99" "$(ratio "$rps" "${ops[store-token-bucket,$c]}") vs (a) token bucket" "$fails"
done

# (d) the node's "/" with and without the middleware, alternating.
ports=$(start_node plain false)
read -r phttp _ <<<"$ports"
curl -sfi "http://127.0.0.1:$lhttp/" | grep -qi '^RateLimit-Policy:' || { echo "the middleware is not limiting / on the limited node" >&2; exit 1; }
load "http://127.0.0.1:$lhttp/" 16 "$work/report.lua" 8 >/dev/null
load "http://127.0.0.1:$phttp/" 16 "$work/report.lua" 5 >/dev/null
for c in "${callers[@]}"; do
  read -r wrps w50 w99 wfails nrps n50 n99 nfails < <(pair "http://127.0.0.1:$lhttp/" "http://127.0.0.1:$phttp/" "$c" "$work/report.lua")
  row "d" "node GET / with the middleware" "$c" "$wrps" "$w50" "$w99" "$(ratio "$wrps" "$nrps") vs without (goal ≥ 0.8)" "$wfails"
  row "d" "node GET / without" "$c" "$nrps" "$n50" "$n99" "" "$nfails"
done
# (d') the same rule with local_batch: true, so most decisions are made from a node's reserved permits.
batch_rules=${BLUEPRINT_RateLimit__Rules//algorithm: token_bucket/algorithm: token_bucket
        local_batch: true}
ports=$(BLUEPRINT_RateLimit__Rules="$batch_rules" start_node batched true)
read -r bhttp _ <<<"$ports"
load "http://127.0.0.1:$bhttp/" 16 "$work/report.lua" 8 >/dev/null
for c in "${callers[@]}"; do
  read -r wrps w50 w99 wfails nrps n50 n99 nfails < <(pair "http://127.0.0.1:$bhttp/" "http://127.0.0.1:$phttp/" "$c" "$work/report.lua")
  row "d'" "node GET / with the middleware, local_batch" "$c" "$wrps" "$w50" "$w99" "$(ratio "$wrps" "$nrps") vs without (goal ≥ 0.8)" "$wfails"
done
"$here/peers/blueprint.sh" stop "$work/batched"
"$here/peers/blueprint.sh" stop "$work/limited"
"$here/peers/blueprint.sh" stop "$work/plain"

# (e) nginx limit_req for reference: the same static file with and without a zone.
nlimited=$(free_port); nplain=$(free_port)
mkdir -p "$work/nginx/www" "$work/nginx/tmp"
chmod 755 "$work" "$work/nginx" "$work/nginx/www"
head -c 1900 /dev/zero | tr '\0' 'x' >"$work/nginx/www/index.html"
chmod 644 "$work/nginx/www/index.html"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp;
  limit_req_zone \$binary_remote_addr zone=bench:10m rate=1000000r/s;
  server {
    listen 127.0.0.1:$nlimited;
    root $work/nginx/www;
    location / { limit_req zone=bench burst=1000000 nodelay; }
  }
  server {
    listen 127.0.0.1:$nplain;
    root $work/nginx/www;
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nplain/" >/dev/null 2>&1 && break; sleep 0.1; done
for c in "${callers[@]}"; do
  read -r wrps w50 w99 wfails nrps n50 n99 nfails < <(pair "http://127.0.0.1:$nlimited/" "http://127.0.0.1:$nplain/" "$c" "$work/report.lua")
  row "e" "nginx limit_req" "$c" "$wrps" "$w50" "$w99" "$(ratio "$wrps" "$nrps") vs without" "$wfails"
  row "e" "nginx without limit_req" "$c" "$nrps" "$n50" "$n99" "" "$nfails"
done

echo "# ratelimit.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# (a)/(b): ${seconds} s × ${rounds} rounds, median; $keys keys; wrk: best of two ${wrk_seconds} s runs, -t min(nproc, connections); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2), $(nginx -v 2>&1 | cut -d' ' -f3)"
echo
echo "| | what | callers / connections | per s | p50 µs | p99 µs | ratio | denied / failed |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
