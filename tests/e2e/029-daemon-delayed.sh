#!/bin/bash
# Late or delayed: a sample the system held up is not the daemon's lateness.
# The daemon is stopped (SIGSTOP) while it idles in its wait, over a deadline,
# and continued: the sample taken then is "delayed", not "late", so the
# late == 0 checks of 022, 024 and 027 keep meaning "the daemon's own work
# held a sample up" on a machine whose host steals the CPU.
. tests/e2e/lib.sh
t_setup
cp -r "$FIX/idle" "$T_TMP/proc"
start_daemon dl --proc-root "$T_TMP/proc" --interval 1 || { not_ok "daemon starts" "$(cat "$DLOG")"; finish; }

# The state letter of the daemon in /proc/PID/stat, with builtins only so that
# the stop follows the look at once.  The daemon is one thread; idle, it
# sleeps ("S") only in epoll_wait.
dstate() {
    local line
    read -r line <"/proc/$DPID/stat" || return 1
    line=${line##*) }
    echo "${line%% *}"
}

# Three stops of 1.2 s at a 1 s interval: each spans a deadline of every
# source, and the sample after it comes at least 0.2 s after that deadline.
STOPS=3
stopped=0
sleep 1.5
for _ in $(seq $STOPS); do
    for _ in $(seq 200); do
        [ "$(dstate)" = S ] && break
        sleep 0.01
    done
    kill -STOP "$DPID" && stopped=$((stopped + 1))
    sleep 1.2
    kill -CONT "$DPID"
    sleep 0.5
done
expect_eq "the daemon was stopped $STOPS times" "$stopped" "$STOPS"

run $KWCLIENT "$SOCK" hello
expect_eq "stopped while idle: no sample late" \
    "$(json_get "$OUT" 'sorted((k, v["late"]) for k, v in d["sources"].items())')" \
    "[('buddyinfo', 0), ('meminfo', 0), ('slabinfo', 0), ('vmallocinfo', 0)]"
expect_eq "stopped while idle: every source delayed at least once a stop" \
    "$(json_get "$OUT" 'sorted((k, v["delayed"] >= '"$STOPS"') for k, v in d["sources"].items())')" \
    "[('buddyinfo', True), ('meminfo', True), ('slabinfo', True), ('vmallocinfo', True)]"

run $KWCLIENT "$SOCK" --metrics
OUT=$(grep -E '^kmemwatch_samples_(late|delayed)_total' <<<"$OUT")
expect_match "metrics: delayed samples counted" "$OUT" '^kmemwatch_samples_delayed_total\{source="slabinfo"\} ([3-9]|[1-9][0-9]+)$'
expect_match "metrics: no late sample" "$OUT" '^kmemwatch_samples_late_total\{source="slabinfo"\} 0$'
run "$KMEMCTL" --socket "$SOCK" status
expect_match "kmemctl status: late 0 and the delayed count" "$OUT" '^slabinfo +1\.0s +[0-9]+ +0 +([3-9]|[1-9][0-9]+) +0 '
# the first one is logged with where its delay went, most of it not woken
expect_match "the log says where a delayed sample's time went" "$(cat "$DLOG")" \
    'sample [0-9]+ ms after its deadline \(delayed\): [0-9] ms busy, [0-9]+ ms kept from a CPU, [0-9]{3,} ms not woken, [0-9]+ ms stolen or blocked'
expect_no_match "no sample logged late" "$(cat "$DLOG")" 'after its deadline \(late\)'
stop_daemon "$DPID"
finish
