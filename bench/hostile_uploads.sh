#!/usr/bin/env bash
# Hostile uploads: 20 members' worth of concurrent uploads of decompression bombs, against the
# server's peak memory (VmHWM). Two kinds of bomb, both tiny on the wire: a 7000 × 7000 8-bit
# RGB PNG (the worst an upload may be: under the pixel limit, 440 MiB to decode, accepted) and a
# 7000 × 7000 16-bit RGBA PNG (676 MiB to decode: refused from its header). Run twice in the
# same session: with the decode limits as configured by default, and with them lifted (the
# baseline: decoding as it was before the limits).
#
#   bench/hostile_uploads.sh [concurrent uploads]
set -euo pipefail
cd "$(dirname "$0")/.."
uploads=${1:-20}
work=$(mktemp -d -t hongshu-bench.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet --bin hongshu
bin="$(pwd)/target/release/hongshu"

# A PNG of one colour, written row by row so the generator never holds the image.
python3 - "$work" <<'PY'
import struct, sys, zlib
def png(path, width, height, depth, colour_type, channels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\0" + bytes([120, 40] * (width * channels * depth // 16))
    squeeze = zlib.compressobj(9)
    body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
png(sys.argv[1] + "/rgb8.png", 7000, 7000, 8, 2, 3)
png(sys.argv[1] + "/rgba16.png", 7000, 7000, 16, 6, 4)
PY
echo "bombs: rgb8.png $(stat -c %s "$work/rgb8.png") bytes, rgba16.png $(stat -c %s "$work/rgba16.png") bytes"

run() { # label, then environment assignments for the server
  local label=$1; shift
  rm -rf "$work/data"; mkdir -p "$work/data"
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$work/data" && env HONGSHU__LOG__LEVEL=warn HONGSHU__LIMITS__UPLOAD__BURST=1000 "$@" \
    "$bin" --data-dir "$work/data" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1) &
  server=$!
  local base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break; sleep 0.2; done
  local pid
  pid=$(pgrep -f -n "hongshu --data-dir $work/data")
  curl -fsS -X POST -H 'content-type: application/json' \
    -d '{"handle":"bomber","display_name":"Bomber","password":"red potato 42"}' "$base/api/v1/auth/signup" >/dev/null
  local token
  token=$(curl -fsS -X POST -H 'content-type: application/json' -d '{"handle":"bomber","password":"red potato 42"}' \
    "$base/api/v1/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  local idle
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local started=$SECONDS
  local senders=()
  : > "$work/codes.txt"
  for i in $(seq 1 "$uploads"); do
    local file=rgb8.png
    [ $((i % 2)) -eq 0 ] && file=rgba16.png
    curl -sS -o /dev/null -w '%{http_code}\n' --max-time 120 -H "Authorization: Bearer $token" \
      -F "file=@$work/$file" "$base/api/v1/media" >> "$work/codes.txt" &
    senders+=($!)
  done
  wait "${senders[@]}" || true
  local peak
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  printf '%s: %d uploads in %ds; answers: %s; idle RSS %d MiB, peak RSS %d MiB\n' "$label" "$uploads" \
    $((SECONDS - started)) "$(sort "$work/codes.txt" | uniq -c | tr '\n' ' ')" $((idle / 1024)) $((peak / 1024))
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

run "limits as configured"
run "limits lifted (baseline)" HONGSHU__MEDIA__MAX_DECODE_BYTES=100000000000 HONGSHU__MEDIA__DECODE_MEMORY_BYTES=100000000000
