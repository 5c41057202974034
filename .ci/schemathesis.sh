#!/usr/bin/env bash
# The API contract, checked by a third party: schemathesis runs every check
# against a freshly started debug server (SQLite in a temp dir), with an
# account holding all three roles, a fixed seed and a bounded time. Any
# failure not in the reviewed baseline (.ci/schemathesis-baseline.json)
# fails the script.
#
#   bash .ci/schemathesis.sh            # builds target/debug/symbolon (debug) first
#   SCHEMATHESIS_MAX_TIME=60 bash .ci/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
max_time=${SCHEMATHESIS_MAX_TIME:-150}
seed=${SCHEMATHESIS_SEED:-22}
bin=${SYMBOLON_BIN:-}
repo=$(pwd)

if ! schemathesis --version 2>/dev/null | grep -q "version $version"; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$version" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "schemathesis==$version"
fi
schemathesis --version
if [ -z "$bin" ]; then
  cargo build --locked -p symbolon-cli
  bin=$repo/target/debug/symbolon
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Private webhook URLs are allowed so that registering one needs no DNS (CI has no network).
SYMBOLON_LOG=warn "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
  --allow-private-webhooks --registration-open true >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "^listening on " "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err"; echo "error: the server did not start"; exit 1; }
  sleep 0.2
done
base=$(sed -n 's/^listening on //p' "$work/server.out" | head -n 1)
[ -n "$base" ] || { cat "$work/server.err"; echo "error: the server did not say where it listens"; exit 1; }
echo "server at $base"

# One account holding all three open roles.
key=$(curl -fsS -X POST "$base/v1/accounts" -H 'Content-Type: application/json' \
  -d '{"name": "schemathesis", "roles": ["provider", "holder", "requester"]}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')
# A saved address and test card, so that orders (and what follows them) can be placed and paid.
curl -fsS -X PUT "$base/v1/requester/profile" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"ship_to": {"name": "Ada", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
       "payment_method": {"type": "sandbox_card", "number": "4242424242424242"}}' >/dev/null

set +e
# From the temp dir, so that schemathesis's and hypothesis's caches stay out of the tree.
(cd "$work" && SYMBOLON_KEY="$key" schemathesis --config-file "$repo/.ci/schemathesis.toml" \
  run "$base/openapi.json" --url "$base" --checks all --seed "$seed" --max-time "$max_time" \
  --baseline "$repo/.ci/schemathesis-baseline.json" --no-color --generation-database none \
  --report junit --report-dir "$work/report" "$@")
status=$?
set -e
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "error: the server died during the run"; tail -n 50 "$work/server.err"; status=1
fi
if grep -q "panicked" "$work/server.err"; then
  echo "error: the server panicked"; grep -A5 "panicked" "$work/server.err" | head -n 40; status=1
fi
exit "$status"
