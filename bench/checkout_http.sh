#!/usr/bin/env bash
# Checkout over HTTP: a mall of one store with 1,000 SKUs and 200 buyers (mall_world), then
# checkouts of one unit of a random SKU as a random buyer at a fixed rate (default 1,000 per
# second for 30 seconds) with an open-loop generator, each with its own Idempotency-Key; and
# /healthz at the same rate as the floor. SQLite by default; give a PostgreSQL URL (an empty
# database) as the fourth argument for the PostgreSQL figure.
#
#   bench/checkout_http.sh [rate] [seconds] [skus] [database url]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}
seconds=${2:-30}
skus=${3:-1000}
database=${4:-}
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet --bin hongshu --example mall_world --example http_load -p hongshu -p app
bin="$(pwd)/target/release"
"$bin/examples/mall_world" "$work" 200 "$skus" $database
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
db_flag=()
[ -n "$database" ] && db_flag=(--database-url "$database")
(cd "$work" && HONGSHU__LOG__FORMAT=text exec "$bin/hongshu" --data-dir "$work" "${db_flag[@]}" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 1 600); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.5; done
if [ -n "$database" ]; then echo "backend: postgres"; else echo "backend: sqlite"; fi
echo "warm-up:"; "$bin/examples/http_load" "$base" "$rate" 5 checkout "$work/mall-buyers.txt" "$work/mall-skus.txt" >/dev/null
echo "checkout, $rate/s for ${seconds}s:"; "$bin/examples/http_load" "$base" "$rate" "$seconds" checkout "$work/mall-buyers.txt" "$work/mall-skus.txt"
echo "floor (/healthz), $rate/s for ${seconds}s:"; "$bin/examples/http_load" "$base" "$rate" "$seconds" /healthz
