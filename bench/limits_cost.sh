#!/usr/bin/env bash
# What rate limiting costs: the note page and checkout, p99 over HTTP at a fixed rate, served by
# this tree's release build with its limits on (raised so that they count every request but
# refuse none), and by a baseline build from before the limits, in the order A B B A in the same
# session, each on a world it made itself (the demo community plus mall_world's store and
# buyers).
#
#   bench/limits_cost.sh <baseline release folder> [rate (200/s)] [seconds (20)]
#
# The baseline folder holds `hongshu` and `examples/{mall_world,http_load}` built from an earlier
# commit, e.g. `git worktree add ../base a20f089 && (cd ../base && cargo build --release --bin
# hongshu --example mall_world --example http_load -p hongshu -p app)`.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$1
rate=${2:-200}
seconds=${3:-20}
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
cargo build --release --quiet --bin hongshu --example mall_world --example http_load -p hongshu -p app
current="$(pwd)/target/release"
raised=(HONGSHU__LIMITS__CHECKOUT__BURST=1000000000 HONGSHU__LIMITS__CHECKOUT__PER_MINUTE=1000000000
  HONGSHU__LIMITS__UNPAID_ORDERS=1000000000 HONGSHU__LIMITS__UNPAID_UNITS=1000000000)

measure() { # label, release folder, then environment assignments for the server
  local label=$1 bin=$2; shift 2
  local data="$work/$label"
  mkdir -p "$data"
  (cd "$data" && env "$@" "$bin/hongshu" --data-dir "$data" seed --demo >/dev/null)
  "$bin/examples/mall_world" "$data" 200 1000 >/dev/null
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$data" && exec env HONGSHU__LOG__LEVEL=warn "$@" "$bin/hongshu" --data-dir "$data" serve \
    --bind "127.0.0.1:$port" >"$data/server.log" 2>&1) &
  server=$!
  local base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.2; done
  local note
  note=$(curl -fsS "$base/api/v1/topics/beauty/notes?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  "$current/examples/http_load" "$base" "$rate" 3 "/notes/$note" >/dev/null
  echo "$label: note page /notes/$note, $rate/s for ${seconds}s:"
  "$current/examples/http_load" "$base" "$rate" "$seconds" "/notes/$note"
  "$current/examples/http_load" "$base" "$rate" 5 checkout "$data/mall-buyers.txt" "$data/mall-skus.txt" >/dev/null
  echo "$label: checkout, $rate/s for ${seconds}s:"
  "$current/examples/http_load" "$base" "$rate" "$seconds" checkout "$data/mall-buyers.txt" "$data/mall-skus.txt"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

# In the order A B B A, so that neither side always runs on a warmer or a busier machine.
measure baseline "$baseline"
measure limited "$current" "${raised[@]}"
measure limited-again "$current" "${raised[@]}"
measure baseline-again "$baseline"
