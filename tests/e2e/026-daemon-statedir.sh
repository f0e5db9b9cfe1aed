#!/bin/bash
# The state directory full (a small tmpfs): the daemon samples into a ring in
# memory, says so once, and saves it to the directory when room returns;
# history written before then survives a restart.
. tests/e2e/lib.sh
t_setup
cp -r "$FIX/idle" "$T_TMP/proc"
mkdir -p "$T_TMP/full.state"
if ! mount -t tmpfs -o size=256k tmpfs "$T_TMP/full.state" 2>/dev/null; then
    not_ok "needs root to mount a tmpfs"
    finish
fi
trap 'umount "$T_TMP/full.state" 2>/dev/null; t_cleanup' EXIT
printf 'ring_full_size = 1M\nring_coarse_size = 256K\ninterval = 0.2\n' >"$T_TMP/small.conf"
SOCK=$T_TMP/full.sock
"$KMEMWATCHD" --socket "$SOCK" --state-dir "$T_TMP/full.state" --user root --config "$T_TMP/small.conf" \
    --proc-root "$T_TMP/proc" >"$T_TMP/full.log" 2>&1 &
DPID=$!
DAEMON_PIDS+=("$DPID")
wait_for "daemon" 5 $KWCLIENT "$SOCK" hello
expect_match "full state directory: said once, history kept in memory" "$(cat "$T_TMP/full.log")" \
    'ring.kmw: No space left on device; keeping history in memory'
sleep 1
run $KWCLIENT "$SOCK" "history slab dentry active_objs 1m"
expect_eq "history answers from memory" "$(json_get "$OUT" 'd["ok"] and len(d["points"]) >= 3')" True
run $KWCLIENT "$SOCK" --ring
expect_match "the memory ring is passed to clients like the file" "$OUT" 'fd size=[1-9][0-9]* readonly=True'
before=$OUT
mount -o remount,size=8m "$T_TMP/full.state"
wait_for "saved" 15 grep -q 'room again' "$T_TMP/full.log"
expect_match "room again: the history is saved to the directory" "$(cat "$T_TMP/full.log")" 'has room again; history saved there'
expect_eq "the ring file exists" "$([ -s "$T_TMP/full.state/ring.kmw" ] && echo yes)" yes
expect_eq "said once each" "$(grep -c 'keeping history in memory' "$T_TMP/full.log") $(grep -c 'room again' "$T_TMP/full.log")" "1 1"
run $KWCLIENT "$SOCK" "history slab dentry active_objs 1m"
old=$OUT
sleep 0.5
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
"$KMEMWATCHD" --socket "$SOCK" --state-dir "$T_TMP/full.state" --user root --config "$T_TMP/small.conf" \
    --proc-root "$T_TMP/proc" >"$T_TMP/full2.log" 2>&1 &
DPID=$!
DAEMON_PIDS+=("$DPID")
wait_for "daemon again" 5 $KWCLIENT "$SOCK" hello
run $KWCLIENT "$SOCK" "history slab dentry active_objs 1m"
expect_eq "after kill -9: the points from the memory period are on disk" \
    "$(python3 -c 'import json,sys; a=json.loads(sys.argv[1])["points"]; b=json.loads(sys.argv[2])["points"]; print(set(map(tuple, a)) <= set(map(tuple, b)))' "$old" "$OUT")" True
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
finish
