#!/usr/bin/env bash
# Runs every test of sscard, exactly as CI does (.ci/run calls this script).
#
# 1. installs what a fresh Debian machine lacks (libpcsclite-dev, pcscd, vsmartcard-vpcd, opensc);
# 2. checks formatting, clippy and the API docs' links;
# 3. starts a PRIVATE pcscd (own socket, own reader ports: a system pcscd is never touched);
# 4. runs the whole workspace test suite (unit, property, scenario, lifecycle, interop, PC/SC +
#    vpcd) and replays the fuzz seeds and regression inputs;
# 5. stops the private pcscd, also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== rustdoc (no broken links in the API docs; each library apart: two are named sscard)"
for crate in sscard sscard-core sscard-sim sscard-pcsc sscard-blocklist sscard-files sscard-cli sscard-ffi; do
    RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --lib -p "$crate"
done
echo "== module circles (no two files of a crate import each other)"
python3 scripts/module-circles.py

echo "== private pcscd"
bash scripts/pcscd-private.sh start
trap 'bash scripts/pcscd-private.sh stop' EXIT
eval "$(bash scripts/pcscd-private.sh env)"

echo "== the production sscard (no test-hooks feature: tests/release_surface.rs, the README tour)"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --quiet -p sscard-cli --bin sscard
cp "$TARGET/debug/sscard" "$TARGET/debug/sscard-production"
export SSCARD_PRODUCTION_BIN="$PWD/$TARGET/debug/sscard-production"
case "$TARGET" in /*) export SSCARD_PRODUCTION_BIN="$TARGET/debug/sscard-production" ;; esac

echo "== cargo test"
cargo test --workspace "$@"

echo "== fuzz seeds and regressions (fuzz/ is its own workspace; stable toolchain)"
cargo test --manifest-path fuzz/Cargo.toml

echo "== tear sweeps (operations x tear points: tried, recovered, corrupted)"
cat "$TARGET"/tmp/tearing-*.md 2>/dev/null || true
