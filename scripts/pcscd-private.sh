#!/usr/bin/env bash
# A PRIVATE pcscd for sscard's tests and demos, which never disturbs a system pcscd.
#
#   scripts/pcscd-private.sh start    start it (no-op when already running)
#   scripts/pcscd-private.sh stop     stop it and wait until it is gone
#   scripts/pcscd-private.sh restart  stop + start
#   scripts/pcscd-private.sh status   exit 0 when running
#   scripts/pcscd-private.sh env      print the shell exports clients need:
#                                     eval "$(scripts/pcscd-private.sh env)"
#
# Settings (environment):
#   SSCARD_PCSCD_DIR   folder for its socket, config, log and pid   (default /tmp/sscard-pcscd)
#   SSCARD_VPCD_PORT   TCP port of the first virtual reader; the second one listens on PORT+1
#                      (default 35991, so 35991/35992 and not the system's 35963/35964)
#   SSCARD_PCSCD_DEBUG=1  log debug messages and APDUs to $SSCARD_PCSCD_DIR/pcscd.log
#
# How it stays private: Debian's pcscd 1.9.9 always creates /run/pcscd/pcscd.comm (only the
# client library honours PCSCLITE_CSOCK_NAME), so it runs in its own mount namespace where
# /run/pcscd is a bind mount of $SSCARD_PCSCD_DIR. `-c DIR` points it at a private
# reader.conf.d folder holding a copy of /etc/reader.conf.d/vpcd rewritten to our port.
# The readers are named "Virtual PCD 00 00" and "Virtual PCD 00 01" (no port in the name).
# Needs root (mount namespace + bind mount). Where mount namespaces are not permitted (an
# unprivileged container), it falls back to running pcscd on the real /run/pcscd, but only when
# no other pcscd is running, and $SSCARD_PCSCD_DIR/pcscd.comm is then a symlink to that socket.
set -euo pipefail

DIR="${SSCARD_PCSCD_DIR:-/tmp/sscard-pcscd}"
PORT="${SSCARD_VPCD_PORT:-35991}"
CONF_DIR="$DIR/reader.conf.d"
PID_FILE="$DIR/sscard-pcscd.pid"
LOG_FILE="$DIR/pcscd.log"
SOCKET="$DIR/pcscd.comm"
VPCD_CONF="${SSCARD_VPCD_CONF:-/etc/reader.conf.d/vpcd}"

die() { echo "pcscd-private: $*" >&2; exit 1; }

# The pid of our pcscd when it is alive (not a zombie), else nothing.
running_pid() {
    [ -f "$PID_FILE" ] || return 1
    local pid state
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "pcscd -f -c $CONF_DIR" || return 1
    state="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [ "$state" != "Z" ] || return 1
    echo "$pid"
}

# True while process $1 exists and is not a zombie (whatever it is executing right now).
alive() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state="$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# True when a pcscd other than ours is alive (scans /proc: procps may be missing).
other_pcscd_running() {
    local p comm ours
    ours="$(running_pid || true)"
    for p in /proc/[0-9]*; do
        comm="$(cat "$p/comm" 2>/dev/null || true)"
        [ "$comm" = "pcscd" ] || continue
        [ "${p#/proc/}" != "$ours" ] || continue
        alive "${p#/proc/}" && return 0
    done
    return 1
}

# True when something listens on TCP port $1 (reads /proc: needs no ss/netstat).
port_listening() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
                      END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

start() {
    if pid="$(running_pid)"; then
        echo "pcscd-private: already running (pid $pid, socket $SOCKET, ports $PORT/$((PORT + 1)))"
        return 0
    fi
    command -v pcscd >/dev/null || die "pcscd is not installed (run scripts/install-deps.sh)"
    command -v unshare >/dev/null || die "unshare (util-linux) is not installed"
    [ -f "$VPCD_CONF" ] || die "$VPCD_CONF not found: is vsmartcard-vpcd installed?"
    [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -gt 0 ] && [ "$PORT" -lt 65535 ] \
        || die "SSCARD_VPCD_PORT must be a TCP port number, not '$PORT'"
    for p in "$PORT" "$((PORT + 1))"; do
        ! port_listening "$p" || die "TCP port $p is already in use (choose SSCARD_VPCD_PORT)"
    done
    [ "$(id -u)" -eq 0 ] || die "needs root (mount namespace and bind mount of /run/pcscd)"

    # Containers without CAP_SYS_ADMIN (Docker's default) cannot make a mount namespace. Then,
    # and only when no other pcscd runs, pcscd uses /run/pcscd itself and $SOCKET is a symlink.
    local isolated=1
    if [ "${SSCARD_PCSCD_NO_NAMESPACE:-0}" != "0" ] \
        || ! unshare -m --propagation private true 2>/dev/null; then
        isolated=0
        if other_pcscd_running; then
            die "no mount namespaces here and another pcscd is running: cannot start a private one"
        fi
        echo "pcscd-private: no mount namespace available: using /run/pcscd (no other pcscd runs)"
    fi

    mkdir -p "$DIR" "$CONF_DIR" /run/pcscd
    rm -f "$CONF_DIR"/* "$SOCKET" "$DIR/pcscd.pid"
    local hexport
    hexport="$(printf '0x%04X' "$PORT")"
    # Rewrite the port of DEVICENAME (/dev/null:0xPORT) and CHANNELID (0xPORT).
    sed -E -e "s#^(DEVICENAME[[:space:]]+[^:]*:)0x[0-9A-Fa-f]+#\1$hexport#" \
        -e "s#^(CHANNELID[[:space:]]+)0x[0-9A-Fa-f]+#\1$hexport#" \
        "$VPCD_CONF" >"$CONF_DIR/vpcd"
    grep -q "$hexport" "$CONF_DIR/vpcd" || die "could not rewrite the port in $CONF_DIR/vpcd"

    # setsid: the daemon does not belong to the caller's process group or terminal.
    local debug=""
    [ "${SSCARD_PCSCD_DEBUG:-0}" = "0" ] || debug="--debug --apdu"
    if [ "$isolated" = 1 ]; then
        setsid unshare -m --propagation private \
            sh -c 'mount --bind "$1" /run/pcscd && exec pcscd -f -c "$2" $3' \
            sh "$DIR" "$CONF_DIR" "$debug" >"$LOG_FILE" 2>&1 </dev/null &
    else
        ln -s /run/pcscd/pcscd.comm "$SOCKET"
        # shellcheck disable=SC2086 # $debug is a list of flags
        setsid pcscd -f -c "$CONF_DIR" $debug >"$LOG_FILE" 2>&1 </dev/null &
    fi
    local pid=$!
    echo "$pid" >"$PID_FILE"

    # Ready when the socket exists and both virtual readers listen.
    for _ in $(seq 100); do
        if [ -S "$SOCKET" ] && port_listening "$PORT" && port_listening "$((PORT + 1))"; then
            echo "pcscd-private: started (pid $pid, socket $SOCKET, ports $PORT/$((PORT + 1)))"
            return 0
        fi
        alive "$pid" || break # (until it has exec'd, its command line is setsid/unshare/sh)
        sleep 0.05
    done
    echo "pcscd-private: pcscd did not come up; its log ($LOG_FILE):" >&2
    cat "$LOG_FILE" >&2 || true
    stop >/dev/null 2>&1 || true
    ! alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    exit 1
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE"
        echo "pcscd-private: not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        running_pid >/dev/null || break
        sleep 0.05
    done
    if running_pid >/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 40); do
            running_pid >/dev/null || break
            sleep 0.05
        done
    fi
    rm -f "$PID_FILE" "$SOCKET"
    echo "pcscd-private: stopped (pid $pid)"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status)
        if pid="$(running_pid)"; then echo "pcscd-private: running (pid $pid)"; else echo "pcscd-private: not running"; exit 1; fi ;;
    env)
        echo "export PCSCLITE_CSOCK_NAME=$SOCKET"
        echo "export SSCARD_VPCD_PORT=$PORT"
        echo "export SSCARD_PCSCD_DIR=$DIR" ;;
    *) echo "usage: $0 start|stop|restart|status|env" >&2; exit 2 ;;
esac
