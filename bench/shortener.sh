#!/usr/bin/env bash
# The shortener module's redirect measured side by side, one run on one machine, everything on
# 127.0.0.1, wrk with the same threads and connections for every row:
#   (a) hot redirect: GET /<code> of one code on a node running kv,sql,shortener: after the first
#       request every redirect is a near-cache hit, no KV and no SQL;
#   (b) the .NET floor: a bare Kestrel app answering GET /{code} with a fixed 302 written straight on
#       HttpResponse (bench/Blueprint.Benchmarks, mode "floor"): routing and Kestrel, nothing else.
#       (a)/(b) is what the module costs on top of ASP.NET Core; goal ≥ 0.9;
#   (c) nginx `return 302` for reference: (a)/(c) is how far a .NET node is from a C server;
#   (d) cold redirect: the same GET on a second node with the near cache off
#       (Shortener:NearCacheSize=0), so every redirect is a KV read (a cache hit there);
#       (d)/(a) is what the near cache buys;
#   (e) creation: POST /api/links with an API key, a new URL per request (each goes to SQL): req/s and
#       p99; afterwards one code the load created is checked with curl to redirect to its URL.
# The nodes run with Kv:Persistence=false. Every server gets an unmeasured warm-up (the JIT reaches its
# optimized tier under load). The compared rows (a)–(d) run in the order a b c d d c b a, so each side
# sees the same background load, and each row is the best of its two wrk runs. Socket completions run
# inline for the floor as they do in the node (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS, default 1).
# nginx answers with its small HTML body; Kestrel with none. Installs wrk and nginx with apt-get when
# missing. About 2 minutes with the defaults.
# Usage: bench/shortener.sh   (env: WRK_SECONDS=5 per wrk run, WRK_THREADS=2, WRK_CONNECTIONS=64,
#                              WARMUP_SECONDS=5 per server; SHORTENER_NODE=0 measures only (b) and (c))
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
wrk_seconds=${WRK_SECONDS:-5}
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-64}
warmup=${WARMUP_SECONDS:-5}
with_node=${SHORTENER_NODE:-1}
node_dll="$root/src/Blueprint.Node/bin/Release/net10.0/blueprint.dll"
bench_dll="$root/bench/Blueprint.Benchmarks/bin/Release/net10.0/Blueprint.Benchmarks.dll"
work=$(mktemp -d)
floor_pid=""
nginx_pid=""
cleanup() {
  "$here/peers/blueprint.sh" stop "$work/hot" || true
  "$here/peers/blueprint.sh" stop "$work/cold" || true
  stop_pid "$floor_pid"
  stop_pid "$nginx_pid"
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "shortener.sh: $*" >&2; exit 1; }


require_tools wrk:wrk nginx:nginx-light
dotnet build -c Release "$root/bench/Blueprint.Benchmarks" -v quiet -nologo >/dev/null
if [ "$with_node" = 1 ]; then
  "$here/peers/blueprint.sh" build ||
    fail "the node does not build (dotnet build -c Release src/Blueprint.Node); SHORTENER_NODE=0 measures only the floor and nginx"
  dotnet "$node_dll" shortener create-key --help >/dev/null 2>&1 ||
    fail "this node has no 'shortener create-key' command (the shortener module is not ready); SHORTENER_NODE=0 measures only the floor and nginx"
fi

# The node sets this itself unless the environment does; the floor gets the same.
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}
export BLUEPRINT_Kv__Persistence=false

# wrk: requests/s, p50 and p99 in µs, and failures (socket errors and non-2xx/3xx answers).
cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk_result %.0f %.0f %.0f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
EOF

# load URL SCRIPT [SECONDS] → "rps p50 p99 failures" of one wrk run
load() {
  local d=${3:-$wrk_seconds} line
  line=$(timeout $((d + 30)) wrk -t "$threads" -c "$connections" -d "${d}s" -s "$2" "$1" | awk '/^wrk_result/ { print $2, $3, $4, $5 }')
  [ -n "$line" ] || fail "wrk reported nothing for $1"
  echo "$line"
}

# best LINE… → the line with the most requests/s; failures summed over all of them
best() { printf '%s\n' "$@" | awk '{ f += $4 } $1 > r { r = $1; l = $2; h = $3 } END { print r + 0, l + 0, h + 0, f + 0 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# expect_redirect URL LOCATION: a 302 to LOCATION, or the script stops
expect_redirect() {
  local head status location
  head=$(curl -s -o /dev/null -D - --max-time 5 "$1" | tr -d '\r') || true
  status=$(awk 'NR == 1 { print $2 }' <<<"$head")
  location=$(awk 'tolower($1) == "location:" { print $2 }' <<<"$head")
  [ "$status" = 302 ] && [ "$location" = "$2" ] ||
    fail "GET $1 answered ${status:-nothing} with Location '${location}', expected 302 to $2"
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

# start_node NAME [ENV=VALUE…] → the HTTP port of a started node with kv,sql,shortener
start_node() {
  local name=$1 http resp
  shift
  http=$(free_port); resp=$(free_port)
  env "$@" "$here/peers/blueprint.sh" start "$http" "$resp" "$work/$name" --modules kv,sql,shortener >/dev/null ||
    fail "the $name node did not start; its log: $(tail -20 "$work/$name/node.log" 2>/dev/null)"
  echo "$http"
}

# create_key NAME → an API key for that node's database (one line on stdout)
create_key() {
  local out
  out=$(dotnet "$node_dll" shortener create-key --data-dir "$work/$1/data") || fail "shortener create-key failed for the $1 node"
  [ "$(wc -l <<<"$out")" = 1 ] && [ -n "$out" ] || fail "shortener create-key printed '$out', expected one line: the key"
  echo "$out"
}

# create_link HTTP_PORT KEY URL → the code of a new link
create_link() {
  local status code
  status=$(curl -s -o "$work/created.json" -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$1/api/links" \
    -H "X-Api-Key: $2" -H 'Content-Type: application/json' -d "{\"url\":\"$3\"}") || true
  [ "$status" = 201 ] || fail "POST /api/links answered ${status:-nothing}: $(cat "$work/created.json" 2>/dev/null)"
  code=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])' <"$work/created.json") ||
    fail "POST /api/links answered no code: $(cat "$work/created.json")"
  echo "$code"
}

target=https://example.com/a
declare -A url name
name[a]="hot redirect, node (near cache)"
name[b]="floor: bare Kestrel 302"
name[c]="nginx return 302"
name[d]="cold redirect, node (near cache off: KV read)"
name[e]="create: POST /api/links"

# (b) the floor.
floor_port=$(free_port)
dotnet "$bench_dll" floor --port "$floor_port" >"$work/floor.log" 2>&1 &
floor_pid=$!
url[b]="http://127.0.0.1:$floor_port/abcdefg"
wait_http "${url[b]}" "$floor_pid" "the floor (Blueprint.Benchmarks floor)"
expect_redirect "${url[b]}" "$target"

# (c) nginx, every path under its prefix.
nginx_port=$(free_port)
temp_paths=$(nginx_temp_paths "$work/nginx/tmp")
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  $temp_paths
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 302 $target; }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
url[c]="http://127.0.0.1:$nginx_port/abcdefg"
wait_http "${url[c]}" "$nginx_pid" "nginx (see $work/nginx/error.log)"
expect_redirect "${url[c]}" "$target"

# (a) and (d): two nodes, each with one link; (d) without the near cache.
compared=(b c)
if [ "$with_node" = 1 ]; then
  hot_http=$(start_node hot)
  cold_http=$(start_node cold BLUEPRINT_Shortener__NearCacheSize=0)
  hot_key=$(create_key hot)
  cold_key=$(create_key cold)
  hot_code=$(create_link "$hot_http" "$hot_key" "$target")
  cold_code=$(create_link "$cold_http" "$cold_key" "$target")
  url[a]="http://127.0.0.1:$hot_http/$hot_code"
  url[d]="http://127.0.0.1:$cold_http/$cold_code"
  expect_redirect "${url[a]}" "$target"
  expect_redirect "${url[d]}" "$target"
  compared=(a b c d)
fi

# Warm-up, not measured.
for r in "${compared[@]}"; do load "${url[$r]}" "$work/report.lua" "$warmup" >/dev/null; done

# The compared rows A B C D D C B A, best of the two runs each.
declare -A first result
for r in "${compared[@]}"; do first[$r]=$(load "${url[$r]}" "$work/report.lua"); done
for ((i = ${#compared[@]} - 1; i >= 0; i--)); do
  r=${compared[$i]}
  second=$(load "${url[$r]}" "$work/report.lua")
  result[$r]=$(best "${first[$r]}" "$second")
done

# (e) creation: a new URL per request (thread number and counter); the first created code each thread
# sees is kept and printed by done(), so one of them can be checked afterwards.
if [ "$with_node" = 1 ]; then
  cat >"$work/create.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "$hot_key"
local threads = {}
setup = function(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"url":"https://example.com/p/' .. id .. '-' .. counter .. '"}')
end
response = function(status, headers, body)
  if created == nil and status == 201 then
    created = body
  end
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local body = thread:get("created")
    if body ~= nil then
      io.write("wrk_created ", body:gsub("\n", " "), "\n")
      break
    end
  end
$(sed -n '2,$p' "$work/report.lua")
EOF
  create_url="http://127.0.0.1:$hot_http/api/links"
  load "$create_url" "$work/create.lua" "$warmup" >/dev/null
  # Both runs are kept whole: the created code is read from the last one.
  run_create() { timeout $((wrk_seconds + 30)) wrk -t "$threads" -c "$connections" -d "${wrk_seconds}s" -s "$work/create.lua" "$create_url"; }
  run_create >"$work/create1.out"
  run_create >"$work/create2.out"
  result[e]=$(best "$(awk '/^wrk_result/ { print $2, $3, $4, $5 }' "$work/create1.out")" \
    "$(awk '/^wrk_result/ { print $2, $3, $4, $5 }' "$work/create2.out")")
  created=$(grep -m1 '^wrk_created ' "$work/create2.out" | cut -d' ' -f2-) || true
  [ -n "$created" ] || fail "the creation load saw no 201 answer; one wrk run said: $(head -20 "$work/create2.out")"
  read -r created_code created_url < <(python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["code"], d["url"])' "$created") ||
    fail "a 201 answer without code and url: $created"
  expect_redirect "http://127.0.0.1:$hot_http/$created_code" "$created_url"
  created_check="checked: $created_code (created under load) → 302 $created_url"
fi

read_row() { read -r rps p50 p99 fails <<<"${result[$1]:-0 0 0 0}"; }
rps_of() { read_row "$1"; echo "$rps"; }
declare -A note
note[b]="(b)/(c) $(ratio "$(rps_of b)" "$(rps_of c)")"
if [ "$with_node" = 1 ]; then
  note[a]="(a)/(b) $(ratio "$(rps_of a)" "$(rps_of b)") (goal ≥ 0.9); (a)/(c) $(ratio "$(rps_of a)" "$(rps_of c)")"
  note[d]="(d)/(a) $(ratio "$(rps_of d)" "$(rps_of a)")"
  rows=(a b c d e)
else
  rows=(b c)
fi

echo "# shortener.sh $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "# wrk -t $threads -c $connections, best of two ${wrk_seconds} s runs after a ${warmup} s warm-up each, order ${compared[*]} then reversed; $(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2), $(nginx -v 2>&1 | cut -d' ' -f3), .NET $(dotnet --version)"
echo
echo "| | what | req/s | p50 µs | p99 µs | ratio | failed |"
echo "|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  read_row "$r"
  echo "| $r | ${name[$r]} | $rps | $p50 | $p99 | ${note[$r]:-} | $fails |"
done
[ -z "${created_check:-}" ] || { echo; echo "$created_check"; }
