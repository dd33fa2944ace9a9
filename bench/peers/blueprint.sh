#!/usr/bin/env bash
# A Blueprint node on loopback, for side-by-side benchmarks (Release build).
#   peers/blueprint.sh build
#   peers/blueprint.sh start HTTP_PORT RESP_PORT DIR [extra flags…]   prints the PID once /readyz answers
#   peers/blueprint.sh stop DIR                                        SIGTERM by PID, waits for the exit
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
dll="$root/src/Blueprint.Node/bin/Release/net10.0/blueprint.dll"
cmd=${1:-}
case "$cmd" in
  build)
    dotnet build -c Release "$root/src/Blueprint.Node" -v quiet -nologo >/dev/null
    ;;
  start)
    http=$2 resp=$3 dir=$4
    shift 4
    mkdir -p "$dir"
    # The coordination module's etcd ports stay out of the way of an etcd peer on 2379/2380.
    BLUEPRINT_Coordination__EtcdPort=${BLUEPRINT_Coordination__EtcdPort:-$(free_port)} BLUEPRINT_Coordination__RaftPort=${BLUEPRINT_Coordination__RaftPort:-$(free_port)} \
    dotnet "$dll" run --http-port "$http" --resp-port "$resp" --data-dir "$dir/data" "$@" >"$dir/node.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/node.pid"
    for _ in $(seq 1 300); do
      curl -sf "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && { echo "$pid"; exit 0; }
      kill -0 "$pid" 2>/dev/null || { echo "node exited; see $dir/node.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "node did not become ready on port $http" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
    ;;
  stop)
    dir=$2
    if [ -f "$dir/node.pid" ]; then
      pid=$(cat "$dir/node.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/node.pid"
    fi
    ;;
  *)
    echo "usage: $0 build | start HTTP_PORT RESP_PORT DIR [flags] | stop DIR" >&2
    exit 2
    ;;
esac
