#!/usr/bin/env bash
# The gateway module's reverse proxy measured side by side, one run on one machine, everything on
# 127.0.0.1, wrk with the same threads, connections and duration for every row, all rows in front of the
# same backend process: a bare Kestrel app answering every GET with 200 and the 13-byte text/plain body
# "hello, world\n" written straight on HttpResponse (bench/Blueprint.Benchmarks, mode "backend"):
#   (a) Blueprint's gateway: a node running only the gateway module (YARP with the module's retries,
#       circuit breakers and X-Forwarded-* headers), one route /proxy/{**rest} to a one-destination
#       cluster, configured through BLUEPRINT_Gateway__ReverseProxy__… environment variables, with its
#       access log off (BLUEPRINT_Gateway__AccessLog=false), as the peers below run;
#   (a') the same node as shipped, access log on: one console line per request, so (a')/(a) is what
#       the access log costs;
#   (b) nginx as a reverse proxy: an upstream block with keepalive 64, HTTP/1.1 to the backend, the same
#       X-Forwarded-For/-Proto/-Host headers, access log off, worker_processes auto.
#       (a)/(b) is how close the gateway gets to the usual C proxy; goal ≥ 0.8;
#   (c) HAProxy in mode http, keep-alive on both sides, http-reuse always, nbthread = cores, no logging,
#       the same forwarded headers; (a)/(c) is the other C reference;
#   (d) the backend direct, no proxy: the ceiling. Each proxy / (d) is what its hop costs.
# Every proxy forwards GET /proxy/hello unchanged (the backend answers any path), each matching the
# /proxy/ prefix as its one route, so /readyz stays the node's own. Every server gets an unmeasured
# warm-up (the JIT reaches its optimized tier under load); the rows then run in the order
# a a' b c d d c b a' a, so each side sees the same background load, and each row is the best of its two wrk runs. Socket
# completions run inline for the backend as they do in the node (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS,
# default 1). Every URL is checked with curl to answer 200 and the exact body before and after the load;
# wrk's non-2xx answers and socket errors are reported per row, and any non-2xx answer fails the run
# (after the table). On a small machine wrk, the proxy and the backend share the cores: the numbers are
# relative to this machine, not absolute. Installs wrk, nginx and haproxy with apt-get when missing.
# About 2 minutes with the defaults.
# Usage: bench/gateway.sh   (env: WRK_SECONDS=5 per wrk run, WRK_THREADS=2, WRK_CONNECTIONS=64,
#                            WARMUP_SECONDS=5 per server; GATEWAY_ACCESS_LOG_ROW=0 leaves out row (a'))
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
wrk_seconds=${WRK_SECONDS:-5}
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-64}
warmup=${WARMUP_SECONDS:-5}
with_access_log_row=${GATEWAY_ACCESS_LOG_ROW:-1}
bench_dll="$root/bench/Blueprint.Benchmarks/bin/Release/net10.0/Blueprint.Benchmarks.dll"
body='hello, world'   # the backend's body without its trailing newline ($(…) drops it)
path=/proxy/hello
work=$(mktemp -d)
backend_pid=""
nginx_pid=""
haproxy_pid=""
cleanup() {
  "$here/peers/blueprint.sh" stop "$work/gateway" || true
  "$here/peers/blueprint.sh" stop "$work/shipped" || true
  stop_pid "$haproxy_pid"
  stop_pid "$nginx_pid"
  stop_pid "$backend_pid"
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "gateway.sh: $*" >&2; exit 1; }


require_tools wrk:wrk nginx:nginx-light haproxy:haproxy
dotnet build -c Release "$root/bench/Blueprint.Benchmarks" -v quiet -nologo >/dev/null ||
  fail "bench/Blueprint.Benchmarks does not build (dotnet build -c Release bench/Blueprint.Benchmarks)"
"$here/peers/blueprint.sh" build || fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"

# The node sets this itself unless the environment does; the backend gets the same.
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}

# wrk: requests/s, p50 and p99 in µs, socket errors (connect, read, write, timeout) and non-2xx answers
# (wrk's "Non-2xx or 3xx responses": every status above 399).
cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk_result %.0f %.0f %.0f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
EOF

# load URL [SECONDS] → "rps p50 p99 socket-errors non-2xx" of one wrk run
load() {
  local d=${2:-$wrk_seconds} line
  line=$(timeout $((d + 30)) wrk -t "$threads" -c "$connections" -d "${d}s" -s "$work/report.lua" "$1" |
    awk '/^wrk_result/ { print $2, $3, $4, $5, $6 }')
  [ -n "$line" ] || fail "wrk reported nothing for $1"
  echo "$line"
}

# best LINE… → the line with the most requests/s; socket errors and non-2xx summed over all of them
best() {
  printf '%s\n' "$@" | awk '{ s += $4; n += $5 } $1 > r { r = $1; l = $2; h = $3 } END { print r + 0, l + 0, h + 0, s + 0, n + 0 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# expect_hello URL NAME: a 200 with the backend's exact body, or the script stops
expect_hello() {
  local status got
  status=$(curl -s -o "$work/answer" -w '%{http_code}' --max-time 5 "$1") || true
  got=$(cat "$work/answer" 2>/dev/null || true)
  [ "$status" = 200 ] && [ "$got" = "$body" ] ||
    fail "$2: GET $1 answered ${status:-nothing} with '$(head -c 200 "$work/answer" 2>/dev/null)', expected 200 '$body'"
}

# wait_http URL PID NAME: until URL answers, or the process is gone
wait_http() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    kill -0 "$2" 2>/dev/null || fail "$3 exited before it answered"
    sleep 0.1
  done
  fail "$3 did not answer on $1"
}

declare -A url name
name[a]="Blueprint gateway (YARP), access log off"
name[q]="Blueprint gateway as shipped, access log on"
name[b]="nginx proxy_pass, keepalive 64"
name[c]="HAProxy, http-reuse always"
name[d]="backend direct (ceiling)"
label() { if [ "$1" = q ]; then echo "a'"; else echo "$1"; fi; }

# (d) the backend, shared by every row.
backend_port=$(free_port)
dotnet "$bench_dll" backend --port "$backend_port" >"$work/backend.log" 2>&1 &
backend_pid=$!
backend="127.0.0.1:$backend_port"
url[d]="http://$backend$path"
wait_http "${url[d]}" "$backend_pid" "the backend (Blueprint.Benchmarks backend)"
expect_hello "${url[d]}" "(d) backend"

# (a) the gateway: a node with only the gateway module, one route and one cluster from the environment.
# start_gateway NAME [ENV=VALUE…] → the HTTP port of a started gateway node
start_gateway() {
  local name=$1 http
  shift
  http=$(free_port)
  env BLUEPRINT_Gateway__ReverseProxy__Routes__bench__ClusterId=backend \
    BLUEPRINT_Gateway__ReverseProxy__Routes__bench__Match__Path='/proxy/{**rest}' \
    BLUEPRINT_Gateway__ReverseProxy__Clusters__backend__Destinations__d1__Address="http://$backend/" \
    "$@" "$here/peers/blueprint.sh" start "$http" "$(free_port)" "$work/$name" --modules gateway >/dev/null ||
    fail "the $name gateway node did not start; its log: $(tail -20 "$work/$name/node.log" 2>/dev/null)"
  echo "$http"
}
url[a]="http://127.0.0.1:$(start_gateway gateway BLUEPRINT_Gateway__AccessLog=false)$path"
expect_hello "${url[a]}" "(a) gateway"
compared=(a)
if [ "$with_access_log_row" = 1 ]; then
  url[q]="http://127.0.0.1:$(start_gateway shipped)$path"
  expect_hello "${url[q]}" "(a') gateway as shipped, access log on"
  compared+=(q)
fi
compared+=(b c d)

# (b) nginx, every path under its prefix.
nginx_port=$(free_port)
temp_paths=$(nginx_temp_paths "$work/nginx/tmp")
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  $temp_paths
  keepalive_requests 1000000;
  upstream backend {
    server $backend;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location /proxy/ {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
url[b]="http://127.0.0.1:$nginx_port$path"
wait_http "${url[b]}" "$nginx_pid" "nginx (see $work/nginx/error.log)"
expect_hello "${url[b]}" "(b) nginx"

# (c) HAProxy in the foreground (-db), no log section: nothing is logged. maxconn is far above the
# load's connections yet within a container's usual descriptor limit (HAProxy needs two per connection).
haproxy_port=$(free_port)
mkdir -p "$work/haproxy"
cat >"$work/haproxy/haproxy.cfg" <<EOF
global
  nbthread $(nproc)
  maxconn 8000
defaults
  mode http
  option http-keep-alive
  http-reuse always
  maxconn 8000
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
frontend bench
  bind 127.0.0.1:$haproxy_port
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  use_backend backend if { path_beg /proxy/ }
backend backend
  server d1 $backend
EOF
haproxy -c -q -f "$work/haproxy/haproxy.cfg" || fail "haproxy rejects $work/haproxy/haproxy.cfg"
haproxy -f "$work/haproxy/haproxy.cfg" -db >"$work/haproxy/haproxy.log" 2>&1 &
haproxy_pid=$!
url[c]="http://127.0.0.1:$haproxy_port$path"
wait_http "${url[c]}" "$haproxy_pid" "haproxy (see $work/haproxy/haproxy.log)"
expect_hello "${url[c]}" "(c) haproxy"

# Warm-up, not measured, the backend first; a non-2xx answer here already stops the run.
for r in d "${compared[@]:0:${#compared[@]}-1}"; do
  line=$(load "${url[$r]}" "$warmup")
  read -r _ _ _ _ bad <<<"$line"
  [ "$bad" = 0 ] || fail "($(label "$r")) ${name[$r]}: $bad non-2xx answers during the warm-up"
done

# The compared rows A B C D D C B A, best of the two runs each.
declare -A first result
for r in "${compared[@]}"; do first[$r]=$(load "${url[$r]}"); done
for ((i = ${#compared[@]} - 1; i >= 0; i--)); do
  r=${compared[$i]}
  second=$(load "${url[$r]}")
  result[$r]=$(best "${first[$r]}" "$second")
done

# Every server still answers 200 and the body after the load.
for r in "${compared[@]}"; do expect_hello "${url[$r]}" "($(label "$r")) ${name[$r]} after the load"; done

read_row() { read -r rps p50 p99 socket non2xx <<<"${result[$1]:-0 0 0 0 0}"; }
rps_of() { read_row "$1"; echo "$rps"; }
declare -A note
note[a]="(a)/(b) $(ratio "$(rps_of a)" "$(rps_of b)") (goal ≥ 0.8); (a)/(c) $(ratio "$(rps_of a)" "$(rps_of c)"); (a)/(d) $(ratio "$(rps_of a)" "$(rps_of d)")"
note[b]="(b)/(d) $(ratio "$(rps_of b)" "$(rps_of d)")"
note[c]="(c)/(d) $(ratio "$(rps_of c)" "$(rps_of d)")"
note[q]="(a')/(a) $(ratio "$(rps_of q)" "$(rps_of a)"); (a')/(b) $(ratio "$(rps_of q)" "$(rps_of b)"); (a')/(c) $(ratio "$(rps_of q)" "$(rps_of c)"); (a')/(d) $(ratio "$(rps_of q)" "$(rps_of d)")"

yarp=$(grep -o 'Include="Yarp.ReverseProxy" Version="[^"]*"' "$root/Directory.Packages.props" | cut -d'"' -f4 || true)
echo "# gateway.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# wrk -t $threads -c $connections GET $path, best of two ${wrk_seconds} s runs after a ${warmup} s warm-up each, order $(for r in "${compared[@]}"; do label "$r"; done | paste -sd' ') then reversed; $(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2), $(nginx -v 2>&1 | cut -d' ' -f3), HAProxy $(haproxy -v | head -1 | cut -d' ' -f3), YARP ${yarp:-?}, .NET $(dotnet --version)"
echo
echo "| | what | req/s | p50 µs | p99 µs | ratio | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|---|"
failed=()
for r in "${compared[@]}"; do
  read_row "$r"
  echo "| $(label "$r") | ${name[$r]} | $rps | $p50 | $p99 | ${note[$r]:-} | $non2xx | $socket |"
  [ "$non2xx" = 0 ] || failed+=("($(label "$r")) ${name[$r]}: $non2xx non-2xx answers")
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'gateway.sh: FAILED — %s\n' "${failed[@]}" >&2
  exit 1
fi
