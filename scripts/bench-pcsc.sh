#!/usr/bin/env bash
# PC/SC benchmark: starts a private pcscd (scripts/pcscd-private.sh, own socket and reader
# ports), runs `cargo bench --bench pcsc` against it and stops it again, also on failure.
# Prints a markdown table whose figures are ratios to one READ RECORD round trip through pcscd
# measured in the same run (median and min-max over rounds; see docs/performance.md), and keeps
# the whole output, with the raw microseconds, in $SSCARD_BENCH_OUT/pcsc.md (default
# target/bench-out; `target` is $CARGO_TARGET_DIR when set). Needs root, pcscd and
# vsmartcard-vpcd (scripts/install-deps.sh); the `sscard read` and batch rows need the release
# binary (built here). Settings: SSCARD_BENCH_PCSC_ROUNDS (rounds, default 5), SSCARD_BENCH_N
# (round trips per APDU row, default 2000), SSCARD_BENCH_RUNS (processes per process row,
# default 200), SSCARD_BENCH_PCSC_BATCH (persons per batch, default 30),
# SSCARD_BENCH_BATCH_RUNS (batch rounds, default 3), SSCARD_BENCH_PCSC_CPU (the CPU this bench and
# pcscd are pinned to, default the last one; `none`: not pinned).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
OUT="${SSCARD_BENCH_OUT:-$TARGET/bench-out}"
mkdir -p "$OUT"

cargo build --release -p sscard-cli >&2
cargo bench --no-run --bench pcsc >&2

export SSCARD_PCSCD_DIR="${SSCARD_PCSCD_DIR:-/tmp/sscard-pcscd-bench}"
export SSCARD_VPCD_PORT="${SSCARD_VPCD_PORT:-35995}"
export SSCARD_BIN="${SSCARD_BIN:-$TARGET/release/sscard}"
bash scripts/pcscd-private.sh start
trap 'bash scripts/pcscd-private.sh stop' EXIT
eval "$(bash scripts/pcscd-private.sh env)"

{
    echo "== machine: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
    cargo bench --bench pcsc "$@"
    echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/pcsc.md"
