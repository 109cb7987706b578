#!/usr/bin/env bash
# The main job on the embedded default: a fresh simulated card (the national specification's
# protocol, the embedded TEST KEYS) goes through personalize → read (genuine) → activate →
# wrong PIN → right PIN → block → read refused, each step with its APDU count.
# No hardware and no pcscd needed; installs the build dependencies the workspace links against.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
exec cargo run --quiet --release -p sscard-cli -- demo "$@"
