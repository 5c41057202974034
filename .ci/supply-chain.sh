#!/usr/bin/env bash
# Supply-chain checks with cargo-deny, offline (deny.toml holds the rules and
# every waiver with its reason):
#  - licences, bans and sources of every dependency;
#  - RustSec advisories against a snapshot of the database: `../shared/advisory-db`
#    when the project's shared folder provides one (it is refreshed there), else
#    the copy committed in `supply-chain/advisory-db/`. cargo-deny reads only a
#    git checkout, so the snapshot is committed into a throwaway repository
#    under target/. Its upstream date is printed, not judged: an old snapshot is
#    refreshed by replacing the folder, not by failing the build.
set -euo pipefail
cd "$(dirname "$0")/.."

deny_version=0.20.2
if ! cargo-deny --version 2>/dev/null | grep -q "$deny_version"; then
  echo "installing cargo-deny $deny_version"
  cargo install --quiet --locked cargo-deny --version "$deny_version"
fi
cargo deny --version

src=supply-chain/advisory-db
if [ -d ../shared/advisory-db/crates ]; then
  src=../shared/advisory-db
fi
# cargo-deny's directory name for the default RustSec URL.
db=target/advisory-dbs/advisory-db-3157b0e258782691
rm -rf "$db" && mkdir -p "$db"
cp -r "$src/." "$db/"
chmod -R u+w "$db"
git -C "$db" init -q
git -C "$db" -c user.name=ci -c user.email=ci@localhost add -A
git -C "$db" -c user.name=ci -c user.email=ci@localhost commit -qm "RustSec snapshot from $src"
echo "advisory database: $src"
grep -Eo '[0-9a-f]{40} \([0-9-]+\)' "$src/SNAPSHOT.md" | sed 's/^/snapshot: upstream commit /' \
  || echo "snapshot: date unknown (no SNAPSHOT.md)"
echo "advisories in the snapshot: $(find "$src/crates" -name 'RUSTSEC-*.md' | wc -l)"

# Duplicate versions are warnings (deny.toml says why); only errors are shown.
# cargo-deny reads every package of the lock file, for every target (some are
# never built here, so never downloaded): fetch them from the registry first;
# the advisory check itself stays offline.
cargo fetch --locked --quiet
cargo deny --log-level error --offline --locked check advisories licenses bans sources
