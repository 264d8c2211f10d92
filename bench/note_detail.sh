#!/usr/bin/env bash
# Note detail under concurrent load: the note page and the note API beside a static file served
# by the same server (the floor), on the demo community, over loopback with wrk.
#
#   bench/note_detail.sh [connections] [seconds]
#
# Builds the release binary, seeds the demo into a temporary folder, starts Hongshu on a free
# port, and runs wrk against 60 different notes in turn. Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-16}
seconds=${2:-15}
command -v wrk >/dev/null || { echo "bench: install wrk (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet
bin="$(pwd)/target/release/hongshu"
(cd "$work" && "$bin" seed --demo >/dev/null)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && HONGSHU__LOG__LEVEL=warn "$bin" serve --bind "127.0.0.1:$port" >/dev/null 2>&1) &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 50); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.2; done

ids=$(for topic in beauty fashion food travel home fitness; do
  curl -fsS "$base/api/v1/topics/$topic/notes?limit=10" | python3 -c 'import json,sys; print("\n".join(n["id"] for n in json.load(sys.stdin)["items"]))'
done)
lua="$work/paths.lua"
{
  echo "paths = {}"
  for id in $ids; do echo "table.insert(paths, \"PREFIX$id\")"; done
  echo 'i = 0'
  echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
} > "$lua.template"

run() { # label, url, [lua script]
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$3" "$2")
  else
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$2")
  fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99"
}

echo "wrk: 2 threads, $connections connections, ${seconds}s per row; $(echo "$ids" | wc -l) different notes"
echo "| what | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
run "static file /static/app.css (floor)" "$base/static/app.css"
sed 's|PREFIX|/notes/|' "$lua.template" > "$lua"
run "note page /notes/{id}" "$base" "$lua"
sed 's|PREFIX|/api/v1/notes/|' "$lua.template" > "$lua"
run "note API /api/v1/notes/{id}" "$base" "$lua"
