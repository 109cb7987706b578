#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (docs/reliability.md, "Fuzzing"). Not part of CI: CI replays
# the seeds and regression inputs (the fuzz crate's tests) and bounded property tests
# (tests/properties.rs).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 600; TARGET defaults to every target (response_parsing
# replay_read replay_personalize sim_handler person_record ffi_strings blocklist_file sim_account).
#
# With cargo-fuzz (coverage-guided libFuzzer): the seeds of fixtures/fuzz/<target>/ are copied
# into the work corpus fuzz/corpus/<target>/ (git-ignored, kept between runs), the target runs
# for the given time, and a summary line gives executions, exec/s, libFuzzer's coverage (`cov:`
# edges, `ft:` features), the corpus size and the crashes. Crash inputs land in
# fuzz/artifacts/<target>/; the script exits 1 when there is one. Logs:
# fuzz/artifacts/<target>/fuzz.log.
#
# Without cargo-fuzz (and FUZZ_INSTALL unset) the script says so and runs in smoke mode: the
# targets are built as plain binaries on the default toolchain and every seed is run through
# its target once (no coverage guidance, no mutation). Exit 1 on any crash.
#
# Environment:
#   FUZZ_TOOLCHAIN  the toolchain for cargo fuzz: nightly when rustup has it, else the default
#                   (stable works with the `none` sanitizer).
#   FUZZ_SANITIZER  none (default) or address. The workspace forbids unsafe code, so ASan adds
#                   little; on a stable toolchain it needs RUSTC_BOOTSTRAP=1, which this script
#                   then sets.
#   FUZZ_INSTALL    1: `cargo install cargo-fuzz --locked` when it is missing (from crates.io).
#   FUZZ_SMOKE      1: smoke mode even when cargo-fuzz is there.
#   FUZZ_NICE       niceness of the fuzz runs (default 10: the cores are shared).
#   FUZZ_ARGS       extra libFuzzer arguments, e.g. "-max_len=8192".
#
# Reproduce a crash:  cargo fuzz run -s none <target> fuzz/artifacts/<target>/crash-...
# Minimise it:        cargo fuzz tmin -s none <target> fuzz/artifacts/<target>/crash-...
# Then fix it and keep the input as fixtures/fuzz/<target>/regression-<what>: the fuzz crate's
# tests (`cargo test --manifest-path fuzz/Cargo.toml`, run by scripts/test.sh in CI) replay
# every file of fixtures/fuzz/.
set -euo pipefail

cd "$(dirname "$0")/.."

ALL_TARGETS=(response_parsing replay_read replay_personalize sim_handler person_record ffi_strings blocklist_file sim_account)

SECONDS_PER_TARGET=${1:-600}
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]] || [[ $SECONDS_PER_TARGET -lt 1 ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
if [[ $# -gt 0 ]]; then
    TARGETS=("$@")
else
    TARGETS=("${ALL_TARGETS[@]}")
fi
for t in "${TARGETS[@]}"; do
    if [[ ! -f fuzz/fuzz_targets/$t.rs ]]; then
        echo "unknown target $t (targets: ${ALL_TARGETS[*]})" >&2
        exit 2
    fi
done

SANITIZER=${FUZZ_SANITIZER:-none}
NICE=${FUZZ_NICE:-10}
read -r -a EXTRA_ARGS <<<"${FUZZ_ARGS:-}"
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v cargo-fuzz >/dev/null 2>&1 && [[ ${FUZZ_INSTALL:-} == 1 ]]; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# ------------------------------------------------------------------------------------------
# smoke mode: no cargo-fuzz
# ------------------------------------------------------------------------------------------
if [[ ${FUZZ_SMOKE:-} == 1 ]] || ! command -v cargo-fuzz >/dev/null 2>&1; then
    if [[ ${FUZZ_SMOKE:-} == 1 ]]; then
        echo "== smoke mode (FUZZ_SMOKE=1): every seed once"
    else
        echo "== cargo-fuzz is not installed (FUZZ_INSTALL=1 installs it): smoke mode, every seed once"
    fi
    nice -n "$NICE" cargo build --release --manifest-path fuzz/Cargo.toml --bins
    failed=0
    for t in "${TARGETS[@]}"; do
        mapfile -t seeds < <(find fixtures/fuzz/"$t" -type f | sort)
        # the fuzz crate's binaries: in $CARGO_TARGET_DIR when set, else its own fuzz/target
        if "${CARGO_TARGET_DIR:-fuzz/target}/release/$t" "${seeds[@]}" >/dev/null 2>&1; then
            echo "$t: ${#seeds[@]} seeds pass"
        else
            echo "!! $t: a seed fails (run ${CARGO_TARGET_DIR:-fuzz/target}/release/$t on fixtures/fuzz/$t/* to see which)"
            failed=1
        fi
    done
    exit "$failed"
fi

# ------------------------------------------------------------------------------------------
# coverage-guided fuzzing with cargo-fuzz
# ------------------------------------------------------------------------------------------
if [[ -n ${FUZZ_TOOLCHAIN:-} ]]; then
    TOOLCHAIN=("+$FUZZ_TOOLCHAIN")
elif command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q '^nightly'; then
    TOOLCHAIN=(+nightly)
else
    TOOLCHAIN=()
fi
if [[ $SANITIZER != none && ${TOOLCHAIN[*]:-} != +nightly* ]]; then
    export RUSTC_BOOTSTRAP=1
fi

echo "== building ${#TARGETS[@]} target(s) (toolchain: ${TOOLCHAIN[*]:-default}, sanitizer: $SANITIZER)"
for t in "${TARGETS[@]}"; do
    nice -n "$NICE" cargo "${TOOLCHAIN[@]}" fuzz build -s "$SANITIZER" "$t"
done

declare -a SUMMARY
crashed=0
for t in "${TARGETS[@]}"; do
    corpus=fuzz/corpus/$t
    artifacts=fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    cp -n fixtures/fuzz/"$t"/* "$corpus"/ 2>/dev/null || true
    log=$artifacts/fuzz.log
    before=$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    echo "== $t: ${SECONDS_PER_TARGET}s, corpus $corpus ($(find "$corpus" -type f | wc -l) inputs)"
    status=0
    nice -n "$NICE" cargo "${TOOLCHAIN[@]}" fuzz run -s "$SANITIZER" "$t" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=4096 \
        "${EXTRA_ARGS[@]}" >"$log" 2>&1 || status=$?
    after=$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    new=$((after - before))
    # the last status line: `#N <event> cov: … corp: n/size … exec/s: …`, or in -fork mode
    # `#N: cov: … corp: n exec/s: …`
    last=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n $execs ]] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    [[ -n $rate ]] || rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\(\/[0-9A-Za-z]*\)\?\).*/\1/p' <<<"$last")
    if [[ $status -ne 0 || $new -gt 0 ]]; then
        crashed=1
        echo "!! $t: libFuzzer exited $status, $new new crash input(s) in $artifacts (log: $log)"
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -5 || true
    fi
    SUMMARY+=("$(printf '%-20s %12s %8s %6s %7s %10s %7s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$new")")
done

echo
printf '%-20s %12s %8s %6s %7s %10s %7s\n' target executions exec/s cov ft corpus crashes
for line in "${SUMMARY[@]}"; do echo "$line"; done
exit "$crashed"
