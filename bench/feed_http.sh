#!/usr/bin/env bash
# The feed on a large community: writes the synthetic world of the feed benchmarks into a fresh
# SQLite database (default 100,000 members, 1,000,000 notes in the last 30 days, 20,000,000
# events), starts Hongshu once to build the search index, then again to time the feed's
# rebuild from the database alone (and, as its baseline, without remembering the last days'
# impressions as seen); offers Explore pages at a fixed rate (default 1,000 per
# second for 30 seconds) as random members with an open-loop generator, and /healthz at the
# same rate as the floor; and last, in the same run, computes pages with a ranking SQL query
# over the same database, the baseline.
#
#   bench/feed_http.sh [users] [notes] [events] [rate] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
notes=${2:-1000000}
events=${3:-20000000}
rate=${4:-1000}
seconds=${5:-30}
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet --bin hongshu --example feed_world --example http_load -p hongshu -p app
bin="$(pwd)/target/release"
"$bin/examples/feed_world" fill "$work" "$users" "$notes" "$events"
echo "database: $(du -sh "$work" | cut -f1)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# start [NAME=VALUE…]: the server, with extra settings in its environment.
start() {
  (cd "$work" && exec env HONGSHU__LOG__LEVEL=info HONGSHU__LOG__FORMAT=text "$@" "$bin/hongshu" --data-dir "$work" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1) &
  server=$!
}
wait_for_log() {
  for _ in $(seq 1 1200); do grep -q "$1" "$work/server.log" && return 0; sleep 0.5; done
  echo "the server never logged: $1" >&2; exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

start
wait_for_log "search index built"
wait_for_log "feed loaded"
stop
# rebuilt LABEL: how long the last start took to load the feed, and the server's memory then.
rebuilt() {
  wait_for_log "feed loaded"
  grep "feed loaded" "$work/server.log" | sed "s/\x1b\[[0-9;]*m//g; s/.*feed loaded/$1:/"
  echo "resident memory of the server: $(ps -o rss= -p "$(pgrep -f "hongshu --data-dir $work" | head -1)" | awk '{printf "%.0f MiB", $1/1024}')"
}
# The baseline: impressions only counted per note, none remembered as seen by their reader.
start HONGSHU__FEED__SEEN_DAYS=0
rebuilt "feed rebuilt, impressions counted only (seen_days = 0)"
stop
start
rebuilt "feed rebuilt from the database (search index already on disk)"
echo "warm-up:"; "$bin/examples/http_load" "$base" "$rate" 5 feed "$work/feed-tokens.txt" >/dev/null
echo "Explore, $rate/s for ${seconds}s:"; "$bin/examples/http_load" "$base" "$rate" "$seconds" feed "$work/feed-tokens.txt"
echo "floor (/healthz), $rate/s for ${seconds}s:"; "$bin/examples/http_load" "$base" "$rate" "$seconds" /healthz
stop
"$bin/examples/feed_world" sql "$work" 200
