#!/usr/bin/env bash
# The telemetry module's trace ingest against its own physical floor, and its query latency at SPANS stored spans, one run
# on one machine, everything on 127.0.0.1. One load tool (bench/Blueprint.TraceLoad) sends SPANS spans (traces of 8 spans
# over 10 services, 6 attributes a span) as OTLP/HTTP protobuf batches of BATCH spans over CONNECTIONS connections, as
# fast as the receiver answers:
#   floor    the node with Telemetry:DropAfterDecode=true: the same receiver reads and decodes every request, then drops
#            it. Spans answered per second.
#   ingest   the node as shipped: decoded, queued (bounded), written to the SQLite trace store with every index. Spans
#            stored per second: from the first request until the store has written every accepted span (read from the
#            node's /metrics); spans the full queue rejected are reported (OTLP partial success) and not counted.
#   query    after the ingest round: LOOKUPS trace-id lookups (GET /api/traces/{id}, every span of a random trace) and
#            SEARCHES tag searches (service + user.id over 2 hours, newest 20 traces), one at a time: p50 and p99 in ms.
# ROUNDS rounds alternate floor and ingest (a fresh node and data directory each) so a change of background load lands on
# both; the table gives the median of the rounds and each round's ratio ingest / floor.
# Builds the node and the load tool (Release) first. About 4 minutes with the defaults.
# Usage: bench/trace.sh   (env: SPANS=1000000, BATCH=512, CONNECTIONS=4, ROUNDS=3, LOOKUPS=2000, SEARCHES=200)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
spans=${SPANS:-1000000}
batch=${BATCH:-512}
connections=${CONNECTIONS:-4}
rounds=${ROUNDS:-3}
lookups=${LOOKUPS:-2000}
searches=${SEARCHES:-200}
load_dll="$root/bench/Blueprint.TraceLoad/bin/Release/net10.0/Blueprint.TraceLoad.dll"
work=$(mktemp -d)
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "trace.sh: $*" >&2; exit 1; }
for n in "$spans" "$batch" "$connections" "$rounds" "$lookups" "$searches"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "trace.sh: SPANS, BATCH, CONNECTIONS, ROUNDS, LOOKUPS and SEARCHES are whole numbers, got '$n'" >&2; exit 2; }
done
[ "$rounds" -ge 1 ] && [ "$spans" -ge 8 ] && [ "$batch" -ge 8 ] && [ "$connections" -ge 1 ] && [ "$lookups" -ge 1 ] ||
  { echo "trace.sh: ROUNDS, CONNECTIONS and LOOKUPS are at least 1, SPANS and BATCH at least 8" >&2; exit 2; }

dotnet build -c Release "$root/bench/Blueprint.TraceLoad" -v quiet -nologo >/dev/null ||
  fail "bench/Blueprint.TraceLoad does not build (dotnet build -c Release bench/Blueprint.TraceLoad)"
"$here/peers/blueprint.sh" build || fail "the node does not build (dotnet build -c Release src/Blueprint.Node)"

# run_side ROUND SIDE → appends one JSON line per measurement to $work/results.jsonl
run_side() {
  local round=$1 side=$2 dir="$work/$1-$2" http otlp pid drop=false line
  http=$(free_port)
  otlp=$(free_port)
  [ "$side" = floor ] && drop=true
  # A queue as large as the run: the ingest rate is the store's, not what a full queue turns away.
  pid=$(BLUEPRINT_Telemetry__DropAfterDecode=$drop BLUEPRINT_Telemetry__QueueSpans=$((spans + batch)) BLUEPRINT_Telemetry__MaxSpans=$((spans * 2)) \
    "$here/peers/blueprint.sh" start "$http" "$(free_port)" "$dir" --modules telemetry --otlp-http-port "$otlp" --otlp-grpc-port "$(free_port)") ||
    fail "the node did not start; see $dir/node.log"
  started_pids+=("$pid")
  local cpu_before
  cpu_before=$(cpu_seconds "$pid")
  if [ "$side" = floor ]; then
    line=$(dotnet "$load_dll" ingest --target "http://127.0.0.1:$otlp" --spans "$spans" --batch "$batch" --connections "$connections")
  else
    line=$(dotnet "$load_dll" ingest --target "http://127.0.0.1:$otlp" --spans "$spans" --batch "$batch" --connections "$connections" --stored-from "http://127.0.0.1:$http/metrics")
  fi
  echo "{\"round\":$round,\"side\":\"$side\",\"what\":\"ingest\",\"server_cpu\":$(awk "BEGIN{print $(cpu_seconds "$pid")-$cpu_before}"),\"result\":$line}" >>"$work/results.jsonl"
  echo "round $round $side: $line" >&2
  if [ "$side" = ingest ]; then
    line=$(dotnet "$load_dll" query --target "http://127.0.0.1:$http" --spans "$spans" --lookups "$lookups" --searches "$searches")
    echo "{\"round\":$round,\"side\":\"$side\",\"what\":\"query\",\"result\":$line}" >>"$work/results.jsonl"
    echo "round $round query: $line" >&2
    du -sb "$dir/data" | awk '{print "store bytes: " $1}' >&2
  fi
  "$here/peers/blueprint.sh" stop "$dir"
  forget_pid "$pid"
  rm -rf "$dir"
}

for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order="floor ingest"; else order="ingest floor"; fi
  for side in $order; do run_side "$round" "$side"; done
done

python3 - "$work/results.jsonl" "$spans" "$batch" "$connections" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
spans, batch, connections = sys.argv[2:5]
def get(side, what):
    return {r["round"]: r for r in rows if r["side"] == side and r["what"] == what}
floor, ingest, query = get("floor", "ingest"), get("ingest", "ingest"), get("ingest", "query")
rounds = sorted(floor)
f = [floor[r]["result"]["answered_spans_per_second"] for r in rounds]
i = [ingest[r]["result"]["stored_spans_per_second"] for r in rounds]
rej = [ingest[r]["result"]["rejected"] for r in rounds]
ratios = [a / b for a, b in zip(i, f)]
print(f"\n### Trace ingest: {spans} spans, OTLP/HTTP protobuf batches of {batch}, {connections} connections\n")
print("| | spans/s | server CPU s | rounds |")
print("|---|---:|---:|---|")
print(f"| floor (decode and drop) | {statistics.median(f):,.0f} | {statistics.median(floor[r]['server_cpu'] for r in rounds):.1f} | {', '.join(f'{x:,.0f}' for x in f)} |")
print(f"| ingest (stored, SQLite) | {statistics.median(i):,.0f} | {statistics.median(ingest[r]['server_cpu'] for r in rounds):.1f} | {', '.join(f'{x:,.0f}' for x in i)} |")
print(f"| **ratio ingest / floor** | **{statistics.median(ratios):.2f}×** | | {', '.join(f'{x:.2f}' for x in ratios)} |")
print(f"\nSpans rejected by a full queue during ingest: {', '.join(str(x) for x in rej)}.")
q = [query[r]["result"] for r in rounds]
print(f"\n### Queries at {spans} stored spans (one at a time, HTTP round trip included)\n")
print("| | p50 ms | p99 ms | rounds (p99) |")
print("|---|---:|---:|---|")
print(f"| trace-id lookup (8 spans) | {statistics.median(x['lookup_p50_ms'] for x in q):.2f} | {statistics.median(x['lookup_p99_ms'] for x in q):.2f} | {', '.join(str(x['lookup_p99_ms']) for x in q)} |")
print(f"| tag search (service + user.id, 2 h, limit 20) | {statistics.median(x['search_p50_ms'] for x in q):.2f} | {statistics.median(x['search_p99_ms'] for x in q):.2f} | {', '.join(str(x['search_p99_ms']) for x in q)} |")
print(f"\nTraces found per search: {', '.join(str(x['traces_found_per_search']) for x in q)}.")
PY
