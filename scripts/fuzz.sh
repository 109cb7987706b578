#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 600; TARGET defaults to every target. For each target the
# seeds of fixtures/fuzz/<target>/ are copied into the work corpus fuzz/corpus/<target>/
# (git-ignored, kept between runs), the target runs for the given time, and a summary line
# gives executions, exec/s, libFuzzer's coverage (`cov:` edges, `ft:` features), the corpus
# size and the crashes. Crash inputs land in fuzz/artifacts/<target>/; the script exits 1 when
# there is one. Logs: fuzz/artifacts/<target>/fuzz.log.
#
# Environment:
#   FUZZ_SANITIZER  none (default) or address. The workspace forbids unsafe code, so ASan adds
#                   little; it needs nightly flags, allowed on the stable toolchain with
#                   RUSTC_BOOTSTRAP=1, which this script then sets.
#   FUZZ_NICE       niceness of the fuzz runs (default 10: the cores are shared).
#   FUZZ_ARGS       extra libFuzzer arguments, e.g. "-max_len=8192".
#
# Reproduce a crash:  cargo fuzz run -s none <target> fuzz/artifacts/<target>/crash-...
# Minimise it:        cargo fuzz tmin -s none <target> fuzz/artifacts/<target>/crash-...
# Then fix it and keep the input as fixtures/fuzz/<target>/regression-<what>: the test
# seeds_and_regression_inputs_pass (tests/properties.rs) replays it in CI.
# Not part of CI.
set -euo pipefail

cd "$(dirname "$0")/.."


ALL_TARGETS=(response_parsing replay_read replay_personalize sim_handler person_record)

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
if [[ $SANITIZER != none ]]; then
    export RUSTC_BOOTSTRAP=1
fi

if ! command -v cargo-fuzz >/dev/null 2>&1 && [[ ! -x $HOME/.cargo/bin/cargo-fuzz ]]; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

echo "== building ${#TARGETS[@]} target(s) (sanitizer: $SANITIZER)"
for t in "${TARGETS[@]}"; do
    nice -n "$NICE" cargo fuzz build -s "$SANITIZER" "$t"
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
    nice -n "$NICE" cargo fuzz run -s "$SANITIZER" "$t" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=4096 \
        "${EXTRA_ARGS[@]}" >"$log" 2>&1 || status=$?
    after=$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    new=$((after - before))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
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
