#!/usr/bin/env bash
# The trace store's embedded engine chosen by measurement: SQLite (the telemetry module's SpanStore, as the ingest loop
# drives it) against DuckDB (bench/Blueprint.TraceStoreBench/DuckDbSpanStore.cs: the same tables and queries, inserts
# through DuckDB's Appender), the latter with and without an ART index on trace_id. One process per round writes one
# deterministic synthetic workload (seeded: traces of 1–20 spans, 10 services × 5 operations, six attributes a span,
# one a user id of high cardinality) to each engine in batches of 4096 spans, one transaction each, then measures:
#   write          spans/s over all batches plus the final checkpoint of the write-ahead log, every index in place,
#                  and the process's CPU time over the same (less sensitive than wall time to a busy machine)
#   on disk        the store's files once closed
#   trace lookup   p50/p99 of fetching (and parsing) every span of one trace, 2000 random known trace ids
#   tag search     p50/p99 of service + one tag key=value + a 1 h window, the newest 20 trace ids, 200 queries
#   service search p50/p99 of service + a 1 h window, the newest 20 trace ids, 200 queries
# The engines run one after another in one process; the order rotates between rounds so a change of background load on
# a shared machine lands on every engine. Each table row also shows a hash of the search results (the same on every
# engine, or the stores disagree) and the 1-minute load average when the engine started.
# Usage: bench/trace-engines.sh [--quick] [--spans N]   (--quick: 100 000 spans; default 1 000 000)
#        env: ROUNDS=2, ENGINES=sqlite,duckdb,duckdb-art, SEED=42
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rounds=${ROUNDS:-2}
engines=${ENGINES:-sqlite,duckdb,duckdb-art}
seed=${SEED:-42}
spans=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) spans=100000 ;;
    --spans) spans=${2:?--spans takes a number}; shift ;;
    *) echo "trace-engines.sh: unknown argument '$1' (takes --quick, --spans N)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$rounds" "$spans" "$seed"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "trace-engines.sh: ROUNDS, SEED and --spans are whole numbers, got '$n'" >&2; exit 2; }
done

dotnet build -c Release "$root/bench/Blueprint.TraceStoreBench" -v quiet -nologo >/dev/null ||
  { echo "trace-engines.sh: bench/Blueprint.TraceStoreBench does not build (dotnet build -c Release bench/Blueprint.TraceStoreBench)" >&2; exit 1; }
work=$(mktemp -d /tmp/trace-engines.XXXXXX)
trap 'rm -rf "$work"' EXIT

IFS=, read -r -a order <<<"$engines"
n=${#order[@]}
echo "# trace-engines.sh $(date -u '+%F %H:%M') UTC — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= rounds; round++)); do
  rotated=()
  for ((i = 0; i < n; i++)); do rotated+=("${order[$(((i + round - 1) % n))]}"); done
  echo
  echo "## round $round ($(IFS=,; echo "${rotated[*]}"))"
  echo
  dotnet "$root/bench/Blueprint.TraceStoreBench/bin/Release/net10.0/Blueprint.TraceStoreBench.dll" \
    --spans "$spans" --seed "$seed" --dir "$work/round$round" --engines "$(IFS=,; echo "${rotated[*]}")"
done
echo
echo "# load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
