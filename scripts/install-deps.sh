#!/usr/bin/env bash
# Installs the system packages sscard needs to build and to run its PC/SC tests on Debian/Ubuntu:
#   libpcsclite-dev  headers + libpcsclite.so for the `pcsc` crate
#   pkg-config       lets pcsc-sys find libpcsclite
#   pcscd            the PC/SC daemon (the tests run a PRIVATE instance, see pcscd-private.sh)
#   vsmartcard-vpcd  the virtual reader driver a simulated card plugs into over TCP
#   opensc           opensc-tool, used by the interoperability test
#   python3, default-jdk-headless, libjna-java
#                    the Python (ctypes) and Java (JNA) programs run against libsscard
#                    (crates/sscard-ffi/tests/through_pcscd.rs)
#   strace           counts the batch's fsyncs and file writes per card
#                    (crates/sscard-cli/tests/disk_cost.rs)
#
# Idempotent: packages that `dpkg -s` reports as installed are skipped; `apt-get update` runs at
# most once, and only when something is missing. Non-interactive (works without a terminal).
# Needs root (or sudo) only when something must be installed.
set -euo pipefail

PACKAGES=(libpcsclite-dev pkg-config pcscd vsmartcard-vpcd opensc python3 default-jdk-headless libjna-java strace)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
        echo "install-deps: $pkg already installed"
    else
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: nothing to install"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "install-deps: need root to install: ${missing[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing: ${missing[*]}"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: installed: ${missing[*]}"
