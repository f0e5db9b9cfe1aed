# Helpers for end-to-end tests: source it, call the checks, each prints one
# TAP line.  Tests run from the repository root with $BUILD set.
# shellcheck shell=bash
set -u
BUILD=${BUILD:-build}
KMEMCTL=${KMEMCTL:-$BUILD/kmemctl}
KMEMTOP=${KMEMTOP:-$BUILD/kmemtop}
KMEMWATCHD=${KMEMWATCHD:-$BUILD/kmemwatchd}
FIX=tests/fixtures
T_FAILED=0

ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    shift
    local line
    for line in "$@"; do printf '#   %s\n' "$line"; done
    T_FAILED=1
}

# run CMD...: sets OUT, ERR, RC
run() {
    local e
    e=$(mktemp)
    OUT=$("$@" 2>"$e")
    RC=$?
    ERR=$(cat "$e")
    rm -f "$e"
}

expect_eq() {   # desc actual expected
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $3" "actual:   $2"; fi
}

expect_match() {   # desc text extended-regex
    if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 600 <<<"$2")"; fi
}

expect_no_match() {   # desc text extended-regex
    if grep -Eq -- "$3" <<<"$2"; then not_ok "$1" "unexpected match for /$3/:" "$(grep -E -- "$3" <<<"$2" | head -3)"; else ok "$1"; fi
}

# jq-free JSON queries: python3 is part of make deps.
# json_get JSON EXPR: evaluates the Python expression EXPR with d = parsed JSON.
json_get() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

finish() { exit "$T_FAILED"; }

# ---- kmemtop in tmux (030-033: each test its own server, $TMUX_SRV) ----
tm() { tmux -L "$TMUX_SRV" "$@" 2>/dev/null; }
# kmemtop_quit_ok SESSION: q ends the session's kmemtop, which ran as
# "kmemtop ... 2>$T_TMP/err; echo \$? >$T_TMP/rc", with status 0 and nothing on stderr.
kmemtop_quit_ok() {
    tm send-keys -t "$1" q
    for _ in $(seq 50); do
        [ -s "$T_TMP/rc" ] && break
        sleep 0.1
    done
    expect_eq "q quits with status 0 and nothing on stderr" \
        "$(cat "$T_TMP/rc" 2>/dev/null)|$(cat "$T_TMP/err" 2>/dev/null)" "0|"
}

# ---- private daemons (chrony-style: each test its own socket and state) ----
KWCLIENT="python3 tests/e2e/kwclient.py"
DAEMON_PIDS=()

# start_daemon NAME ARGS...: starts kmemwatchd with a private socket and state
# dir under $T_TMP/NAME, waits until it answers.  Sets SOCK, STATE, DPID, DLOG.
start_daemon() {
    local name=$1 i
    shift
    SOCK=$T_TMP/$name.sock
    STATE=$T_TMP/$name.state
    DLOG=$T_TMP/$name.log
    mkdir -p "$STATE"
    "$KMEMWATCHD" --socket "$SOCK" --state-dir "$STATE" --user root --config /dev/null "$@" \
        >>"$DLOG" 2>&1 &
    DPID=$!
    DAEMON_PIDS+=("$DPID")
    for i in $(seq 100); do
        if [ -S "$SOCK" ] && $KWCLIENT "$SOCK" hello >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$DPID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

stop_daemon() {   # PID: SIGTERM and wait
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# wait_for DESC SECONDS CMD...: poll until CMD succeeds
wait_for() {
    local desc=$1 secs=$2 i
    shift 2
    for i in $(seq $((secs * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

t_setup() {
    T_TMP=$(mktemp -d /tmp/kmw-test.XXXXXX)
    chmod 0755 "$T_TMP"
    trap t_cleanup EXIT
}

t_cleanup() {
    local p
    for p in "${DAEMON_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$T_TMP"
}
