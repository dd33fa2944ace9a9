#!/usr/bin/env bash
# The redis-server peer on loopback, for side-by-side benchmarks.
#   peers/redis.sh install             apt-get install redis-server redis-tools when missing
#   peers/redis.sh start PORT DIR      start on 127.0.0.1:PORT with its files in DIR; prints the PID
#                                      (REDIS_PERSISTENCE=everysec|always for an append-only file
#                                      fsynced each second or each write; default none)
#   peers/redis.sh stop DIR            stop the server started in DIR, by its PID only
set -euo pipefail
cmd=${1:-}
case "$cmd" in
  install)
    if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
    fi
    ;;
  start)
    port=$2 dir=$3
    mkdir -p "$dir"
    persistence=(--save "" --appendonly no)
    case "${REDIS_PERSISTENCE:-none}" in
      everysec | always) persistence=(--save "" --appendonly yes --appendfsync "$REDIS_PERSISTENCE") ;;
    esac
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" "${persistence[@]}" \
      --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$dir/redis.pid"
    for _ in $(seq 1 100); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && { echo "$pid"; exit 0; }
      sleep 0.1
    done
    echo "redis-server did not answer on port $port" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
    ;;
  stop)
    dir=$2
    if [ -f "$dir/redis.pid" ]; then
      pid=$(cat "$dir/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/redis.pid"
    fi
    ;;
  *)
    echo "usage: $0 install | start PORT DIR | stop DIR" >&2
    exit 2
    ;;
esac
