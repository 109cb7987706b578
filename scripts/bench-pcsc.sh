#!/usr/bin/env bash
# PC/SC round-trip benchmark: starts a private pcscd (scripts/pcscd-private.sh, own socket and
# reader ports), runs `cargo bench --bench pcsc` against it and stops it again, also on failure.
# Prints a markdown table (see docs/pcsc.md). Needs root, pcscd and vsmartcard-vpcd
# (scripts/install-deps.sh). SSCARD_BENCH_N sets the round trips per APDU row (default 2000).
set -euo pipefail
cd "$(dirname "$0")/.."

export SSCARD_PCSCD_DIR="${SSCARD_PCSCD_DIR:-/tmp/sscard-pcscd-bench}"
export SSCARD_VPCD_PORT="${SSCARD_VPCD_PORT:-35995}"
bash scripts/pcscd-private.sh start
trap 'bash scripts/pcscd-private.sh stop' EXIT
eval "$(bash scripts/pcscd-private.sh env)"

echo "== machine: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
cargo bench --bench pcsc "$@"
