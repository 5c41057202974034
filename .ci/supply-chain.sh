#!/usr/bin/env bash
# Supply-chain checks, offline:
#  - cargo-deny: licences, bans and sources of every dependency (deny.toml);
#  - cargo-audit: RustSec advisories against a snapshot of the database, with
#    fetching disabled. The snapshot is `../shared/advisory-db` when the project's
#    shared folder provides one (it is refreshed there), else the copy committed
#    in `supply-chain/advisory-db/`. Its date is printed, not judged: an old
#    snapshot is refreshed by replacing the folder, not by failing the build.
# Waivers live in `.cargo/audit.toml` (advisories) and `deny.toml` (licences,
# bans), each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."

deny_version=0.20.2
audit_version=0.22.2
install() { # crate version binary
  if ! "$3" --version 2>/dev/null | grep -q "$2"; then
    echo "installing $1 $2"
    cargo install --quiet --locked "$1" --version "$2"
  fi
}
install cargo-deny "$deny_version" cargo-deny
install cargo-audit "$audit_version" cargo-audit
cargo deny --version
cargo audit --version

echo "--- cargo deny: licenses, bans, sources"
# Duplicate versions are warnings (deny.toml says why); only errors are shown.
cargo deny --log-level error --locked check licenses bans sources

db=supply-chain/advisory-db
if [ -d ../shared/advisory-db/crates ]; then
  db=../shared/advisory-db
fi
echo "--- cargo audit against the RustSec snapshot in $db"
grep -Eo '[0-9a-f]{40} \([0-9-]+\)' "$db/SNAPSHOT.md" | sed 's/^/snapshot: commit /' || echo "snapshot: date unknown (no SNAPSHOT.md)"
echo "advisories in the snapshot: $(find "$db/crates" -name 'RUSTSEC-*.md' | wc -l)"
cargo audit --no-fetch --db "$db" --deny warnings --file Cargo.lock
