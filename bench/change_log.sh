#!/usr/bin/env bash
# What the change log costs and how far behind it runs.
#
# 1. Explore (as random signed-in buyers, default 1,000/s) and checkout (default 300/s), each at
#    a fixed rate, served by this tree's release build and by a baseline build from before the
#    change log, in the order A B B A, each on a world it made itself (the demo community plus
#    mall_world's store and 200 buyers), SQLite.
# 2. This tree only, SQLite and (given a server URL) PostgreSQL: from /metrics, the delay from
#    recording each change to each subscriber applying it (search, feed, note cache,
#    notifications), p50 and p99 as histogram bucket bounds, under
#    - likes and unlikes over HTTP (default 300/s, every request a change: 200 buyers × 50
#      notes, liked in even rounds, taken back in odd ones), and
#    - `change_flood`: likes and unlikes recorded straight into the log by a second process
#      (default 2,000/s, 20 to a transaction), which the server learns of through LISTEN/NOTIFY on
#      PostgreSQL and by its 0.5 s poll on SQLite (one process per SQLite database is the rule;
#      this one only measures).
#
#   bench/change_log.sh <baseline release folder> [explore rate] [checkout rate] [seconds]
#                       [like rate] [flood rate] [postgres server url]
#
# The baseline folder holds `hongshu` and `examples/{mall_world,http_load}` built from an earlier
# commit (see bench/limits_cost.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$1
rate=${2:-1000}
checkout_rate=${3:-300}
seconds=${4:-20}
like_rate=${5:-300}
flood_rate=${6:-2000}
pg_server=${7:-}
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
cargo build --release --quiet --bin hongshu --example mall_world --example http_load --example change_flood -p hongshu -p app
current="$(pwd)/target/release"
raised=(HONGSHU__LIMITS__CHECKOUT__BURST=1000000000 HONGSHU__LIMITS__CHECKOUT__PER_MINUTE=1000000000
  HONGSHU__LIMITS__UNPAID_ORDERS=1000000000 HONGSHU__LIMITS__UNPAID_UNITS=1000000000
  HONGSHU__LIMITS__LIKE__BURST=1000000000 HONGSHU__LIMITS__LIKE__PER_MINUTE=1000000000
  HONGSHU__SERVER__METRICS_TOKEN=bench)

# world LABEL BIN [database url]: the demo and the mall in a folder of their own.
world() {
  local label=$1 bin=$2 url=${3:-}
  local data="$work/$label" flags=()
  [ -n "$url" ] && flags=(--database-url "$url")
  mkdir -p "$data"
  (cd "$data" && "$bin/hongshu" --data-dir "$data" "${flags[@]}" seed --demo >/dev/null)
  "$bin/examples/mall_world" "$data" 200 1000 $url >/dev/null
  cut -d' ' -f1 "$data/mall-buyers.txt" >"$data/tokens.txt"
}

# start LABEL BIN [database url]: serves the label's world; sets $base.
start() {
  local label=$1 bin=$2 url=${3:-}
  local data="$work/$label" flags=() port
  [ -n "$url" ] && flags=(--database-url "$url")
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$data" && exec env HONGSHU__LOG__LEVEL=warn "${raised[@]}" "$bin/hongshu" --data-dir "$data" "${flags[@]}" serve \
    --bind "127.0.0.1:$port" >"$data/server.log" 2>&1) &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.2; done
  sleep 2 # the feed and the search index load
}

stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

# Waits until every subscriber's lag on /metrics is 0 (the world's own changes are applied).
caught_up() {
  for _ in $(seq 1 600); do
    curl -fsS -H 'Authorization: Bearer bench' "$base/metrics" \
      | python3 -c 'import sys; lags = [float(l.split()[-1]) for l in sys.stdin if l.startswith("hongshu_change_lag_seconds{")]; sys.exit(0 if lags and max(lags) == 0 else 1)' \
      && return 0
    sleep 1
  done
  echo "the subscribers never caught up" >&2; exit 1
}

measure() { # label, release folder
  local label=$1 bin=$2
  world "$label" "$bin"
  start "$label" "$bin"
  local data="$work/$label"
  "$current/examples/http_load" "$base" "$rate" 3 feed "$data/tokens.txt" >/dev/null
  echo "$label: explore, $rate/s for ${seconds}s:"
  "$current/examples/http_load" "$base" "$rate" "$seconds" feed "$data/tokens.txt"
  "$current/examples/http_load" "$base" "$checkout_rate" 3 checkout "$data/mall-buyers.txt" "$data/mall-skus.txt" >/dev/null
  echo "$label: checkout, $checkout_rate/s for ${seconds}s:"
  "$current/examples/http_load" "$base" "$checkout_rate" "$seconds" checkout "$data/mall-buyers.txt" "$data/mall-skus.txt"
  stop
}

# The delay histogram's quantiles per subscriber, from two scrapes of /metrics.
delays() {
  python3 - "$1" "$2" <<'PY'
import re, sys
def read(path):
    counts = {}
    for line in open(path):
        if not line.startswith('hongshu_change_apply_delay_seconds_bucket{'):
            continue
        labels, value = line.rsplit(' ', 1)
        le = re.search(r'le="([^"]+)"', labels).group(1)
        name = re.search(r'subscriber="([^"]+)"', labels).group(1)
        counts.setdefault(name, []).append((float(le), float(value)))
    return counts
before, after = read(sys.argv[1]), read(sys.argv[2])
for name, buckets in sorted(after.items()):
    old = dict(before.get(name, []))
    rows = [(le, n - old.get(le, 0)) for le, n in buckets]
    total = rows[-1][1]
    def q(p):
        return next(le for le, n in rows if n >= p * total)
    print(f"  {name}: {int(total)} changes applied, delay p50 <= {q(0.5)} s, p99 <= {q(0.99)} s")
PY
}

lag() { # label, [database url]
  local label=$1 url=${2:-}
  world "$label" "$current" "$url"
  start "$label" "$current" "$url"
  local data="$work/$label"
  curl -fsS "$base/api/v1/feed/explore?limit=50" \
    | python3 -c 'import json,sys; print("\n".join(i["note"]["id"] for i in json.load(sys.stdin)["items"]))' >"$data/notes.txt"
  caught_up
  curl -fsS -H 'Authorization: Bearer bench' "$base/metrics" >"$data/before.txt"
  echo "$label: likes and unlikes over HTTP, $like_rate/s for ${seconds}s ($(wc -l <"$data/notes.txt") notes):"
  "$current/examples/http_load" "$base" "$like_rate" "$seconds" like "$data/tokens.txt" "$data/notes.txt"
  sleep 3
  curl -fsS -H 'Authorization: Bearer bench' "$base/metrics" >"$data/after.txt"
  delays "$data/before.txt" "$data/after.txt"
  echo "$label: change_flood, $flood_rate/s for ${seconds}s:"
  "$current/examples/change_flood" "$data" "$flood_rate" "$seconds" $url
  sleep 3
  curl -fsS -H 'Authorization: Bearer bench' "$base/metrics" >"$data/flooded.txt"
  delays "$data/after.txt" "$data/flooded.txt"
  stop
}

# In the order A B B A, so that neither side always runs on a warmer or a busier machine.
measure baseline "$baseline"
measure change-log "$current"
measure change-log-again "$current"
measure baseline-again "$baseline"
lag lag-sqlite
if [ -n "$pg_server" ]; then
  psql "$pg_server" -qc 'DROP DATABASE IF EXISTS hongshu_bench_lag' -c 'CREATE DATABASE hongshu_bench_lag'
  lag lag-postgres "${pg_server%/*}/hongshu_bench_lag"
fi
