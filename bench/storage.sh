#!/usr/bin/env bash
# The storage module's S3 API measured against the physical floor of this machine, one run, everything on 127.0.0.1.
# One load tool (bench/Blueprint.StorageLoad) drives every side with the same client: HttpClient over
# SocketsHttpHandler, CONCURRENCY workers each with one request in flight, bodies sliced from one pre-generated random
# buffer (no allocation per request), requests signed with SigV4 in the Authorization header with
# x-amz-content-sha256: UNSIGNED-PAYLOAD (a header HMAC per request, nothing per byte). For each object size
# (SIZES, default 4 KiB, 1 MiB, 64 MiB) it runs, WARMUP_SECONDS unrecorded then SECONDS_PER_ROW measured:
#   PUT floor        the tool itself writes the object's bytes to a new file in a directory on the same file system as
#                    the nodes' data (one write) and fsyncs the file, with the same concurrency
#   PUT floor + dir  the same plus an fsync of the directory, which the store also does for a blob file (> 64 KiB)
#   PUT 1 node       a node running the storage module: PUT /bench/<key>. Objects up to 64 KiB go inline into SQLite
#                    (synchronous=FULL), larger ones to a blob file (fsync + directory fsync) then a SQLite commit
#   PUT 3 nodes      three nodes, N=3 R=2 W=2, each worker's requests spread over the three in turn
#   GET nginx        nginx (worker_processes 2, sendfile on, access_log off) serving the floor's files
#   GET 1 node       GET of the objects the node's PUT row wrote (signed the same way)
#   GET 3 nodes      the same against the cluster, requests spread over the three nodes
# Each GET row reads the same number of distinct objects (the fewest any PUT row of that size wrote), cycling over
# them; every body is read to its end and its length checked. Everything is in the page cache by then on every side.
# Nothing is deleted between rows (deleting 10^5 small files keeps the journal busy into the next row); each row starts
# after a sync. The work directory (a few GB with the defaults) is removed at exit.
# Reported per row: ops/s, MB/s of payload (10^6 bytes), p50 / p99 latency (ms, from the request's start to its last
# byte), and the ratios Blueprint / floor: MB/s against "PUT floor" (file + fsync) and "GET nginx" (above 1 is
# better), p99 likewise (below 1 is better); PUT rows also give the MB/s ratio against "PUT floor + dir".
# Goals: 1-node GET >= 0.8x nginx, 1-node PUT >= 0.8x the fsync floor.
# Any failed request fails the run after the table. Installs nginx with apt-get when missing; builds the node and the
# load tool (Release) before measuring. About 4–5 minutes with the defaults on 2 cores, --quick under 2 minutes (builds
# not counted).
# Usage: bench/storage.sh [--quick]   (env: SECONDS_PER_ROW=6, WARMUP_SECONDS=2, SIZES=4096,1048576,67108864,
#                                      CONCURRENCY=  (default 8 up to 64 KiB, 4 up to 8 MiB, 2 above))
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "storage.sh: unknown argument '$arg' (takes --quick)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  seconds=${SECONDS_PER_ROW:-1}
  warmup=${WARMUP_SECONDS:-1}
else
  seconds=${SECONDS_PER_ROW:-6}
  warmup=${WARMUP_SECONDS:-2}
fi
sizes=${SIZES:-4096,1048576,67108864}
concurrency=${CONCURRENCY:-}
for n in "$seconds" "$warmup" ${sizes//,/ } $concurrency; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "storage.sh: SECONDS_PER_ROW, WARMUP_SECONDS, SIZES (comma list) and CONCURRENCY are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$seconds" -ge 1 ] || { echo "storage.sh: SECONDS_PER_ROW is at least 1" >&2; exit 2; }
for n in ${sizes//,/ } $concurrency; do
  [ "$n" -ge 1 ] || { echo "storage.sh: SIZES and CONCURRENCY are at least 1" >&2; exit 2; }
done
for n in ${sizes//,/ }; do
  [ "$n" -le 1073741824 ] || { echo "storage.sh: SIZES are at most 1 GiB, got $n" >&2; exit 2; }
done

node_dll="$root/src/Blueprint.Node/bin/Release/net10.0/blueprint.dll"
load_dll="$root/bench/Blueprint.StorageLoad/bin/Release/net10.0/Blueprint.StorageLoad.dll"
access_key=benchadmin
secret_key=benchsecret-$RANDOM$RANDOM
cluster_secret=bench-cluster-secret-$RANDOM$RANDOM
work=$(mktemp -d)
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "storage.sh: $*" >&2; exit 1; }
start_time=$(date +%s)
elapsed() { echo "$(($(date +%s) - start_time))s"; }

require_tools nginx:nginx python3:python3 curl:curl
dotnet build -c Release "$root/bench/Blueprint.StorageLoad" -v quiet -nologo >/dev/null ||
  fail "bench/Blueprint.StorageLoad does not build (dotnet build -c Release bench/Blueprint.StorageLoad)"
dotnet build -c Release "$root/src/Blueprint.Node" -v quiet -nologo >/dev/null ||
  fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"

echo "# load before: $(uptime)" >&2

# start_node NAME S3_PORT [flags…]: a node running only the storage module, its PID in started_pids once it is ready
start_node() {
  local name=$1 s3=$2 dir="$work/$1" pid
  shift 2
  mkdir -p "$dir"
  dotnet "$node_dll" run --modules storage --data-dir "$dir/data" --http-port "$(free_port)" --s3-port "$s3" \
    --storage-root-access-key "$access_key" --storage-root-secret-key "$secret_key" "$@" >"$dir/node.log" 2>&1 &
  pid=$!
  started_pids+=("$pid")
  for _ in $(seq 1 600); do
    grep -q "Press Ctrl-C" "$dir/node.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/node.log" >&2; fail "node $name exited while starting"; }
    sleep 0.1
  done
  tail -20 "$dir/node.log" >&2
  fail "node $name did not start in 60 s"
}

# The floor's files live next to the nodes' data: the same file system.
floor="$work/floor"
mkdir -p "$floor/files"

# nginx serving the floor's files.
nginx_port=$(free_port)
temp_paths=$(nginx_temp_paths "$floor/nginx-tmp")
cat >"$floor/nginx.conf" <<EOF
daemon off;
user $(id -un) $(id -gn);
worker_processes 2;
pid $floor/nginx.pid;
error_log $floor/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  $temp_paths
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 600s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    root $floor/files;
  }
}
EOF
nginx -p "$floor" -c "$floor/nginx.conf" -e "$floor/nginx-error.log" &
started_pids+=("$!")

# One node, and three nodes N=3 R=2 W=2.
one_s3=$(free_port)
start_node one "$one_s3"
c1=$(free_port) c2=$(free_port) c3=$(free_port)
cluster=(--storage-cluster-secret "$cluster_secret")
start_node n1 "$c1" --storage-node-id n1 --storage-peers "n2=http://127.0.0.1:$c2,n3=http://127.0.0.1:$c3" "${cluster[@]}"
start_node n2 "$c2" --storage-node-id n2 --storage-peers "n1=http://127.0.0.1:$c1,n3=http://127.0.0.1:$c3" "${cluster[@]}"
start_node n3 "$c3" --storage-node-id n3 --storage-peers "n1=http://127.0.0.1:$c1,n2=http://127.0.0.1:$c2" "${cluster[@]}"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.1; done

one_url="http://127.0.0.1:$one_s3/bench"
three_urls="http://127.0.0.1:$c1/bench,http://127.0.0.1:$c2/bench,http://127.0.0.1:$c3/bench"
signed=(--access-key "$access_key" --secret-key "$secret_key")

results="$work/results.jsonl" # one line per row: {"size","op","side","result"}
: >"$results"
# row SIZE OP SIDE MODE ARGS…: one measured row, recorded; prints its "objects"
row() {
  local size=$1 op=$2 side=$3 line
  shift 3
  sync # the previous row's dirty pages (the nodes' checkpoints, deletes) do not spill into this one
  if ! line=$(timeout $((seconds + warmup + 600)) dotnet "$load_dll" "$@" --size "$size" --concurrency "$conc" \
    --seconds "$seconds" --warmup "$warmup" 2>"$work/load.err"); then
    line=$(python3 -c 'import json,sys; print(json.dumps({"errors":1,"first_error":sys.argv[1],"objects":0}))' "$(tail -3 "$work/load.err" | tr '\n' ' ')")
  fi
  python3 -c 'import json,sys; print(json.dumps({"size":int(sys.argv[1]),"op":sys.argv[2],"side":sys.argv[3],"result":json.loads(sys.argv[4])}))' \
    "$size" "$op" "$side" "$line" >>"$results"
  echo "  [$(elapsed)] $size $op $side: $line" >&2
  case "$line" in
    *'"errors":0'*) ;;
    *) case "$side" in *node*) # what the nodes logged about it
         grep -h -i -E 'fail|warn|error|exception' "$work"/one/node.log "$work"/n[123]/node.log 2>/dev/null | tail -5 | cut -c1-400 >&2 || true ;;
       esac ;;
  esac
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(0 if r.get("errors") else (r.get("objects") or 0)); sys.exit(1 if r.get("errors") else 0)' "$line" || { touch "$work/failed"; return 1; }
}

for size in ${sizes//,/ }; do
  if [ -n "$concurrency" ]; then conc=$concurrency
  elif [ "$size" -le 65536 ]; then conc=8
  elif [ "$size" -le 8388608 ]; then conc=4
  else conc=2
  fi
  prefix="s$size-"
  mkdir -p "$floor/dir-$size"
  n_floor=$(row "$size" PUT "floor" file --dir "$floor/files" --prefix "$prefix" --dir-fsync 0) || n_floor=0
  row "$size" PUT "floor + dir" file --dir "$floor/dir-$size" --prefix "$prefix" --dir-fsync 1 >/dev/null || true
  create=(--create-bucket 1) # PUT /bench first; "already exists" is fine
  n_one=$(row "$size" PUT "1 node" put --targets "$one_url" --prefix "$prefix" "${signed[@]}" "${create[@]}") || n_one=0
  n_three=$(row "$size" PUT "3 nodes" put --targets "$three_urls" --prefix "$prefix" "${signed[@]}" "${create[@]}") || n_three=0
  # A side whose PUT row failed has holes among its keys: it gets no GET row, and does not bound the others.
  objects=$(printf '%s\n' "$n_floor" "$n_one" "$n_three" | grep -v '^0$' | sort -n | head -1)
  objects=${objects:-0}
  if [ "$objects" -lt 1 ]; then
    echo "  $size: a PUT row wrote nothing; no GET rows" >&2
    touch "$work/failed"
    continue
  fi
  [ "$n_floor" = 0 ] || row "$size" GET "nginx" get --targets "http://127.0.0.1:$nginx_port" --prefix "$prefix" --objects "$objects" >/dev/null || true
  [ "$n_one" = 0 ] || row "$size" GET "1 node" get --targets "$one_url" --prefix "$prefix" --objects "$objects" "${signed[@]}" >/dev/null || true
  [ "$n_three" = 0 ] || row "$size" GET "3 nodes" get --targets "$three_urls" --prefix "$prefix" --objects "$objects" "${signed[@]}" >/dev/null || true
done

echo "# load after: $(uptime)" >&2

python3 - "$results" "$seconds" "$warmup" "$(nginx -v 2>&1 | cut -d' ' -f3)" "$(dotnet --version)" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"# {sys.argv[3]} s warm-up + {sys.argv[2]} s measured per row; {sys.argv[4]}, .NET {sys.argv[5]}; "
      "ratio = Blueprint / floor (PUT: file + fsync; GET: nginx static)")
print("| size | op | side | conc | ops/s | MB/s | p50 ms | p99 ms | MB/s ratio | p99 ratio | MB/s ratio vs floor + dir |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
def label(size):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"
def find(size, op, side):
    return next((r["result"] for r in rows if r["size"] == size and r["op"] == op and r["side"] == side), None)
def ratio(a, b, key):
    return f"{a[key] / b[key]:.2f}" if a and b and not a.get("errors") and not b.get("errors") and b.get(key) else "–"
for r in rows:
    res, size, op, side = r["result"], r["size"], r["op"], r["side"]
    if res.get("errors"):
        print(f"| {label(size)} | {op} | {side} | | failed: {str(res.get('first_error'))[:120]} | | | | | | |")
        continue
    base = find(size, op, "floor" if op == "PUT" else "nginx")
    dirbase = find(size, "PUT", "floor + dir") if op == "PUT" else None
    floorish = side in ("floor", "floor + dir", "nginx")
    print(f"| {label(size)} | {op} | {side} | {res['concurrency']} | {res['ops_per_s']:.1f} | {res['mb_per_s']:.2f} | "
          f"{res['p50_ms']:.2f} | {res['p99_ms']:.2f} | "
          f"{'' if floorish else ratio(res, base, 'mb_per_s')} | {'' if floorish else ratio(res, base, 'p99_ms')} | "
          f"{ratio(res, dirbase, 'mb_per_s') if op == 'PUT' and not floorish else ''} |")
EOF
[ ! -e "$work/failed" ] || fail "some requests failed (see the rows above)"
