#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis (pinned in requirements.txt) sends
# every operation generated requests, a bounded number per operation with a fixed seed, as a
# signed-in member with a personal token, and fails on any 5xx, any status or content type the
# document does not list, and any answer that breaks its schema.
#
#   tests/schema/run.sh <schemathesis's st> <server url>
set -euo pipefail
st=$1
base=$2
post() { curl -fsS -X POST -H 'content-type: application/json' "$@"; }
post -d '{"handle":"conformance","display_name":"Conformance","password":"red potato 42"}' \
  "$base/api/v1/auth/signup" >/dev/null
session=$(post -d '{"handle":"conformance","password":"red potato 42"}' "$base/api/v1/auth/login" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
token=$(post -H "Authorization: Bearer $session" -d '{"name":"conformance"}' "$base/api/v1/me/tokens" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
# Signing out would end the run's own session; everything else is called.
cd "$(mktemp -d)"
"$st" run "$base/api/openapi.json" -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing --max-examples 10 --seed 1 --workers 1 --no-color \
  --exclude-path /api/v1/auth/logout
