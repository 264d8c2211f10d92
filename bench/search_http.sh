#!/usr/bin/env bash
# Search over HTTP on a large community: fills a fresh SQLite database with generated notes
# (default 1,000,000), starts Hongshu, waits for the search index to be built from the
# database (and reports how long that took), then offers a fixed rate of two-term searches
# (default 500 per second for 30 seconds) with an open-loop generator, and the same rate of
# /healthz as the floor, in the same run; then the same search load again while
# `hongshu reindex` rebuilds the whole index beside the live one.
#
#   bench/search_http.sh [notes] [rate] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
notes=${1:-1000000}
rate=${2:-500}
seconds=${3:-30}
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet --bin hongshu --example bulk_notes --example http_load -p hongshu -p app
bin="$(pwd)/target/release"
"$bin/examples/bulk_notes" "$work" "$notes"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && HONGSHU__LOG__LEVEL=info HONGSHU__LOG__FORMAT=text exec "$bin/hongshu" --data-dir "$work" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1) &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do grep -q "search index built" "$work/server.log" && break; sleep 0.5; done
grep "search index built" "$work/server.log" | sed 's/\x1b\[[0-9;]*m//g; s/.*search index built/search index built from the database:/'
echo "resident memory of the server: $(ps -o rss= -p "$(pgrep -f "hongshu --data-dir $work" | head -1)" | awk '{printf "%.0f MiB", $1/1024}')"
echo "warm-up:"; "$bin/examples/http_load" "$base" "$rate" 5 search >/dev/null
echo "search, $rate/s for ${seconds}s:"; "$bin/examples/http_load" "$base" "$rate" "$seconds" search
echo "floor (/healthz), $rate/s for ${seconds}s:"; "$bin/examples/http_load" "$base" "$rate" "$seconds" /healthz
echo "search, $rate/s for ${seconds}s, while \`hongshu reindex\` rebuilds the index beside the live one:"
"$bin/examples/http_load" "$base" "$rate" "$seconds" search &
load=$!
# At the lowest CPU priority, as a maintenance job on a serving machine should run.
nice -n 19 "$bin/hongshu" --data-dir "$work" reindex
wait "$load"
sleep 2
grep -c "search switched to a rebuilt index" "$work/server.log" | sed 's/^/switches to the rebuilt index seen in the server log: /'
