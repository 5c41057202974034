#!/usr/bin/env bash
# Fuzzing on the stable toolchain: builds the cargo-fuzz targets in fuzz/
# without a sanitizer (`-s none`, debug assertions on), runs each for a
# bounded time, prints libFuzzer's executions per target and fails on any
# crash, leak of memory past the limit, or timeout (a non-zero exit, or a
# file left in fuzz/artifacts/). A crash found here is kept by copying the
# artifact to fuzz/regressions/<target>/ (`cargo test -p symbolon-fuzz`
# replays that folder) once it is fixed.
#
# FUZZ_SECONDS (per target, default 25) and FUZZ_TARGETS (default: every
# target the build makes without the `server` feature) may be set.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

cargo_fuzz_version=0.13.2
seconds=${FUZZ_SECONDS:-25}
start=$(date +%s)

if ! cargo fuzz --version 2>/dev/null | grep -q " $cargo_fuzz_version\$"; then
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi
cargo fuzz --version

# The targets of fuzz/Cargo.toml that need no feature.
default_targets=$(awk '/^\[/ { if (bin && name != "" && !req) print name; bin = ($0 == "[[bin]]"); name = ""; req = 0 }
  /^name = / { gsub(/"/, "", $3); name = $3 }
  /^required-features/ { req = 1 }
  END { if (bin && name != "" && !req) print name }' Cargo.toml)
targets=${FUZZ_TARGETS:-$default_targets}
# A target list that came out empty would fuzz nothing and pass.
if [ "$(echo $targets | wc -w)" -lt 6 ] && [ -z "${FUZZ_TARGETS:-}" ]; then
  echo "error: found only [$targets] among fuzz/Cargo.toml's targets; expected at least 6" >&2
  exit 1
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
  for t in $targets; do cargo fuzz build -s none --debug-assertions "$t"; done
else
  cargo fuzz build -s none --debug-assertions
fi
built=$(date +%s)
echo "cargo-fuzz ready and targets built in $((built - start)) s"

rm -rf artifacts
status=0
for t in $targets; do
  log=$(mktemp)
  # Fresh inputs go to a scratch folder; the committed corpus only seeds.
  scratch=$(mktemp -d)
  set +e
  cargo fuzz run -s none --debug-assertions "$t" "$scratch" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(awk '/stat::number_of_executed_units/ { print $2; exit }' "$log")
  printf '%-16s exit %s, %s executions in %s s\n' "$t" "$rc" "${execs:-?}" "$seconds"
  if [ "$rc" -ne 0 ]; then
    status=1
    tail -n 40 "$log"
  fi
  rm -rf "$log" "$scratch"
done
if [ -d artifacts ] && [ -n "$(find artifacts -type f)" ]; then
  echo "error: libFuzzer left inputs in fuzz/artifacts/:"
  find artifacts -type f
  status=1
fi
echo "fuzzing took $(($(date +%s) - start)) s in all"
exit "$status"
