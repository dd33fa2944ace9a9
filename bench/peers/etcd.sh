#!/usr/bin/env bash
# One etcd member on loopback, for side-by-side benchmarks (etcd's defaults otherwise: fsync on every
# commit, heartbeat 100 ms, election timeout 1000 ms).
#   peers/etcd.sh install                                          etcd and etcdctl from apt when missing
#   peers/etcd.sh start NAME CLIENT_PORT PEER_PORT DIR CLUSTER      CLUSTER: n1=http://127.0.0.1:P1,…;
#                                                                   prints the PID once the member listens
#   peers/etcd.sh stop DIR                                          SIGTERM by PID, waits for the exit
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
cmd=${1:-}
case "$cmd" in
  install)
    require_tools etcd:etcd-server etcdctl:etcd-client
    ;;
  start)
    name=$2 client=$3 peer=$4 dir=$5 cluster=$6
    mkdir -p "$dir"
    etcd --name "$name" --data-dir "$dir/data" \
      --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
      --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "bench-$(printf %s "$cluster" | cksum | cut -d" " -f1)" \
      --logger zap --log-outputs stderr >"$dir/etcd.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/etcd.pid"
    # The client port opens before the cluster has a leader; the caller waits for one.
    for _ in $(seq 1 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$client") 2>/dev/null && { echo "$pid"; exit 0; }
      kill -0 "$pid" 2>/dev/null || { echo "etcd $name exited; see $dir/etcd.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "etcd $name did not listen on port $client" >&2
    stop_pid "$pid"
    exit 1
    ;;
  stop)
    dir=$2
    if [ -f "$dir/etcd.pid" ]; then
      stop_pid "$(cat "$dir/etcd.pid")"
      rm -f "$dir/etcd.pid"
    fi
    ;;
  *)
    echo "usage: $0 install | start NAME CLIENT_PORT PEER_PORT DIR CLUSTER | stop DIR" >&2
    exit 2
    ;;
esac
