#!/usr/bin/env bash
# One nats-server with JetStream on loopback, for side-by-side benchmarks (its defaults otherwise: file storage
# written through the OS page cache and synced in the background; 2.9 has no setting to fsync each write).
#   peers/nats.sh install             apt-get install nats-server when missing
#   peers/nats.sh start PORT DIR      start on 127.0.0.1:PORT with JetStream's store in DIR/js; prints the PID once it listens
#   peers/nats.sh stop DIR            stop the server started in DIR, by its PID only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib.sh"
cmd=${1:-}
case "$cmd" in
  install)
    require_tools nats-server:nats-server
    ;;
  start)
    port=$2 dir=$3
    mkdir -p "$dir/js"
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/js" -l "$dir/nats.log" >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$dir/nats.pid"
    # JetStream is ready once the log says so; the client port opens before that.
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && grep -q "Server is ready" "$dir/nats.log" 2>/dev/null; then
        echo "$pid"
        exit 0
      fi
      kill -0 "$pid" 2>/dev/null || { echo "nats-server exited; see $dir/nats.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "nats-server did not listen on port $port" >&2
    stop_pid "$pid"
    exit 1
    ;;
  stop)
    dir=$2
    if [ -f "$dir/nats.pid" ]; then
      stop_pid "$(cat "$dir/nats.pid")"
      rm -f "$dir/nats.pid"
    fi
    ;;
  *)
    echo "usage: $0 install | start PORT DIR | stop DIR" >&2
    exit 2
    ;;
esac
