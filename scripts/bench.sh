#!/usr/bin/env bash
# The benchmark suite (not part of CI): installs the dependencies, builds the release binaries
# once, starts a private pcscd (scripts/pcscd-private.sh, own socket and reader ports; stopped
# again on exit), runs every benchmark and prints ONE markdown table of medians with the machine
# it ran on:
#
#   benches/inprocess.rs  card lifecycle per generation and algorithm (key file, PSAM),
#                         simulator APDUs/s, PSAM and crypto ops/s (no I/O)
#   benches/pcsc.rs       through pcscd + vpcd: APDU round trips (bare pcsc / PcscTransport /
#                         Channel), reads vs the field trace's sequence, the lifecycle with the
#                         PSAM in the second reader, `sscard read` as a process, batch with
#                         `sscard sim serve --feeder` on 1 and 2 readers
#   benches/cli.rs        `sscard read --reader sim:IMAGE` as a process, batch on 1 and 2
#                         in-process feeders
#   crates/sscard-blocklist/benches/blocklist.rs
#                         the blocklist at 10 million entries: look-up, load/verify, bytes
#                         per entry, a 10 000-entry delta, against a HashSet<String> terminal
#
# Options are environment variables (see each bench's header): SSCARD_BENCH_N,
# SSCARD_BENCH_CARDS, SSCARD_BENCH_RUNS, SSCARD_BENCH_BATCH, SSCARD_BENCH_PCSC_BATCH,
# SSCARD_BENCH_BATCH_RUNS. The raw output of each bench is kept in $SSCARD_BENCH_OUT
# (default target/bench-out; `target` is $CARGO_TARGET_DIR when set). The baseline of the
# batch rows (the commit before the per-operation saves, $SSCARD_BENCH_BASELINE, default
# 4c8de7a) is built beside this tree by scripts/bench-baseline.sh. Needs root for the private pcscd (mount namespace); without it
# the PC/SC rows are skipped with a notice. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
OUT="${SSCARD_BENCH_OUT:-$TARGET/bench-out}"
mkdir -p "$OUT"

bash scripts/install-deps.sh >&2 || echo "bench: install-deps failed; PC/SC rows may be skipped" >&2

echo "bench: building release (sscard CLI + benches)" >&2
cargo build --release -p sscard-cli >&2
cargo bench --no-run --bench inprocess --bench pcsc --bench cli >&2
cargo bench --no-run -p sscard-blocklist --bench blocklist >&2

export SSCARD_PCSCD_DIR="${SSCARD_PCSCD_DIR:-/tmp/sscard-pcscd-bench}"
export SSCARD_VPCD_PORT="${SSCARD_VPCD_PORT:-35995}"
export SSCARD_BIN="${SSCARD_BIN:-$TARGET/release/sscard}"
if baseline="$(bash scripts/bench-baseline.sh)"; then
    export SSCARD_BASELINE_BIN="$baseline"
else
    echo "bench: the baseline could not be built; its rows are skipped" >&2
fi
pcscd_started=0
if bash scripts/pcscd-private.sh start >&2; then
    pcscd_started=1
    eval "$(bash scripts/pcscd-private.sh env)"
else
    echo "bench: no private pcscd (root, pcscd and vsmartcard-vpcd needed)" >&2
fi
cleanup() {
    if [ "$pcscd_started" = 1 ]; then bash scripts/pcscd-private.sh stop >&2 || true; fi
}
trap cleanup EXIT

for bench in inprocess pcsc cli; do
    echo "bench: running $bench" >&2
    cargo bench --bench "$bench" >"$OUT/$bench.md" 2>"$OUT/$bench.log" \
        || { echo "bench: $bench failed, see $OUT/$bench.log" >&2; tail -20 "$OUT/$bench.log" >&2; }
done
echo "bench: running blocklist" >&2
cargo bench -p sscard-blocklist --bench blocklist >"$OUT/blocklist.md" 2>"$OUT/blocklist.log" \
    || { echo "bench: blocklist failed, see $OUT/blocklist.log" >&2; tail -20 "$OUT/blocklist.log" >&2; }

pcsc_version="$(dpkg-query -W -f '${Version}' pcscd 2>/dev/null || pcscd --version 2>/dev/null | head -1 || echo unknown)"
vpcd_version="$(dpkg-query -W -f '${Version}' vsmartcard-vpcd 2>/dev/null || echo unknown)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo
echo "Machine: $(nproc) CPU(s), ${cpu:-unknown CPU}; Linux $(uname -r); pcsc-lite ${pcsc_version}; vsmartcard-vpcd ${vpcd_version}; $(rustc --version); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| benchmark | median | unit | APDUs | target | result | noise |"
echo "|---|---:|---|---:|---|---|---|"
for bench in inprocess pcsc cli blocklist; do
    grep -E '^\| ' "$OUT/$bench.md" | grep -vE '^\| benchmark \||^\|---' || true
done
echo
for bench in inprocess pcsc cli; do
    grep -E 'SKIPPED' "$OUT/$bench.md" | sed "s/^/$bench: /" || true
done
