#!/usr/bin/env bash
# The ledger's writer dies: two nodes (release builds) on one PostgreSQL; the node that writes
# the ledger is killed (SIGKILL) `rounds` times (default 5), each time timing how long until
# the other node's /readyz says it writes (it holds the lease and has loaded the ledger from
# the database), and then how long until a transfer sent through it is acknowledged; the
# killed node is started again before the next round.
#
#   bench/failover.sh DATABASE_URL [rounds]      (an empty PostgreSQL database)
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:?usage: bench/failover.sh DATABASE_URL [rounds]}
rounds=${2:-5}
work=$(mktemp -d -t hongshu-failover.XXXXXX)
trap 'pkill -9 -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet --bin hongshu
export HONGSHU_BIN="$(pwd)/target/release/hongshu" HONGSHU_WORK="$work" HONGSHU_DATABASE="$database"
echo "a long enough password" | HONGSHU__STORAGE__DATABASE_URL="$database" \
  "$HONGSHU_BIN" --data-dir "$work/admin" admin create treasurer >/dev/null
python3 - "$rounds" <<'EOF'
import json, os, socket, subprocess, sys, time, urllib.error, urllib.request

rounds = int(sys.argv[1])
binary, work, database = os.environ["HONGSHU_BIN"], os.environ["HONGSHU_WORK"], os.environ["HONGSHU_DATABASE"]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

ports = [free_port(), free_port()]

def start(i):
    env = dict(os.environ, HONGSHU__SERVER__NODE_ID=str(i + 1), HONGSHU__STORAGE__DATABASE_URL=database,
               RUST_LOG="warn")
    node = subprocess.Popen([binary, "--data-dir", f"{work}/node{i}", "serve", "--bind", f"127.0.0.1:{ports[i]}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not readiness(i).startswith("ready\n"):
        time.sleep(0.05)
    return node

def readiness(i):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[i]}/readyz", timeout=2) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:  # 503: not ready, and why
        return e.read().decode()
    except OSError as e:  # not listening (killed)
        return str(e)

def call(i, path, body=None, token=None):
    request = urllib.request.Request(f"http://127.0.0.1:{ports[i]}{path}", method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"content-type": "application/json",
                                              **({"authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())

nodes = [start(0), start(1)]
token = call(0, "/api/v1/auth/login", {"handle": "treasurer", "password": "a long enough password"})["token"]
accounts = [call(0, "/api/v1/admin/ledger/accounts", {"kind": kind, "owner": owner, "currency": "CNY"}, token)["id"]
            for kind, owner in [("provider_cash", "provider:sandbox"), ("buyer_payments", "platform")]]
takeovers, acknowledged = [], []
for round in range(rounds):
    writer = next(i for i in (0, 1) if "ledger: writes" in readiness(i))
    other = 1 - writer
    time.sleep(0.5 + 0.053 * round)  # at different moments of the other node's 250 ms retry
    killed = time.monotonic()
    nodes[writer].kill(); nodes[writer].wait()
    while "ledger: writes" not in readiness(other):
        time.sleep(0.002)
    takeovers.append((time.monotonic() - killed) * 1000)
    transfer = {"id": str(1000 + round), "debit_account_id": accounts[0], "credit_account_id": accounts[1],
                "amount": 100, "currency": "CNY", "reason": "order_payment"}
    status = call(other, "/api/v1/admin/ledger/transfers", {"transfers": [transfer]}, token)["results"][0]["status"]
    assert status == "created", status
    acknowledged.append((time.monotonic() - killed) * 1000)
    nodes[writer] = start(writer)
print("writer killed, the other node writes after (ms):", ", ".join(f"{t:.0f}" for t in takeovers))
print("writer killed, a transfer through the other node acknowledged after (ms):",
      ", ".join(f"{t:.0f}" for t in acknowledged))
for node in nodes:
    node.kill()
EOF
