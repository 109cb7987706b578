#!/usr/bin/env bash
# Builds the `sscard` binary of a baseline commit beside the current one, for benchmarks that
# compare the two in one run (benches/cli.rs: the batch on disk against the commit before the
# save-per-operation work, issue 14). The commit's tree is exported with `git archive` (no
# worktree, no change to the repository) into $TARGET/baseline-<commit>/src and built into
# its own target folder there; a second run reuses both. Prints the binary's path on stdout.
#
#   bash scripts/bench-baseline.sh [COMMIT]      (default 4c8de7a)
set -euo pipefail
cd "$(dirname "$0")/.."

commit="${1:-${SSCARD_BENCH_BASELINE:-4c8de7a}}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
full="$(git rev-parse --verify "$commit^{commit}")"
dir="$target/baseline-${full:0:7}"
if [ ! -f "$dir/src/Cargo.toml" ]; then
    rm -rf "$dir/src"
    mkdir -p "$dir/src"
    git archive "$full" | tar -x -C "$dir/src"
fi
echo "bench: building the baseline sscard ${full:0:7} in $dir" >&2
CARGO_TARGET_DIR="$dir/target" cargo build --release --quiet -p sscard-cli \
    --manifest-path "$dir/src/Cargo.toml" >&2
echo "$dir/target/release/sscard"
