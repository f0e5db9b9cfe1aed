#!/bin/bash
# The systemd side with a real toolchain (systemd is not PID 1 here):
# systemd-analyze verify and security of the shipped units, sysusers, real
# socket activation with systemd-socket-activate, and READY=1 / STATUS= /
# WATCHDOG=1 / STOPPING=1 on a NOTIFY_SOCKET the test owns.
. tests/e2e/lib.sh
t_setup
cp -r "$FIX/idle" "$T_TMP/proc"
bin=$(cd "$BUILD" && pwd)

# units with ExecStart pointing at the build, man pages where man finds them
mkdir -p "$T_TMP/units" "$T_TMP/man/man8" "$T_TMP/man/man5" "$T_TMP/man/man1"
sed "s|@SBINDIR@|$bin|" systemd/kmemwatchd.service.in >"$T_TMP/units/kmemwatchd.service"
cp systemd/kmemwatchd.socket "$T_TMP/units/"
cp docs/kmemwatchd.8 "$T_TMP/man/man8/"; cp docs/kmemwatchd.conf.5 "$T_TMP/man/man5/"
run env MANPATH="$T_TMP/man" systemd-analyze verify "$T_TMP/units/kmemwatchd.service" "$T_TMP/units/kmemwatchd.socket"
expect_eq "systemd-analyze verify: no warning, no error" "$RC|$OUT$ERR" "0|"

run systemd-analyze security --offline=true "$T_TMP/units/kmemwatchd.service"
score=$(grep -o 'Overall exposure level for kmemwatchd.service: [0-9.]*' <<<"$OUT$ERR" | awk '{print $NF}')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN{exit !(s <= 1.5)}'; then
    ok "systemd-analyze security: exposure $score <= 1.5"
else
    not_ok "systemd-analyze security: exposure '$score' > 1.5" "$(grep '✗' <<<"$OUT" | head -20)"
fi
for key in ProcSubset=pid PrivateUsers=; do
    expect_no_match "unit does not set $key (it would hide our files)" "$(grep -v '^#' systemd/kmemwatchd.service.in)" "^$key"
done

mkdir -p "$T_TMP/root/etc"
run systemd-sysusers --root="$T_TMP/root" "$PWD/systemd/kmemwatch.sysusers"
expect_eq "sysusers.d creates the kmemwatch user and group" \
    "$RC $(cut -d: -f1 "$T_TMP/root/etc/passwd" 2>/dev/null | grep -c '^kmemwatch$') $(cut -d: -f1 "$T_TMP/root/etc/group" 2>/dev/null | grep -c '^kmemwatch$')" "0 1 1"

# socket activation: systemd-socket-activate listens, starts the daemon on the first connection
SOCK=$T_TMP/act.sock
mkdir -p "$T_TMP/act.state"
systemd-socket-activate -l "$SOCK" "$KMEMWATCHD" --user root --config /dev/null \
    --state-dir "$T_TMP/act.state" --proc-root "$T_TMP/proc" >"$T_TMP/act.log" 2>&1 &
apid=$!
DAEMON_PIDS+=("$apid")
wait_for "activation socket" 5 test -S "$SOCK"
run $KWCLIENT "$SOCK" hello
expect_match "socket activation: the first connection starts the daemon and is answered" "$OUT" '"protocol": *1'
expect_match "socket activation: the daemon used the inherited socket" "$(cat "$T_TMP/act.log")" 'inherited from systemd'
kill -TERM "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
expect_eq "socket activation: an inherited socket's path is left to systemd" "$([ -S "$SOCK" ] && echo kept || echo removed)" kept

# an inherited socket of the wrong kind is refused with a clear message
systemd-socket-activate --datagram -l "$T_TMP/dgram.sock" "$KMEMWATCHD" --user root --config /dev/null \
    --state-dir "$T_TMP/dg.state" --proc-root "$T_TMP/proc" >"$T_TMP/dg.log" 2>&1 &
dpid=$!
DAEMON_PIDS+=("$dpid")
wait_for "dgram socket" 5 test -S "$T_TMP/dgram.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"x", sys.argv[1])' "$T_TMP/dgram.sock"
wait_for "dgram log" 5 grep -q 'not a listening Unix stream socket' "$T_TMP/dg.log"
expect_match "a datagram socket passed by systemd is refused" "$(cat "$T_TMP/dg.log")" 'not a listening Unix stream socket'
kill -TERM "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null

# sd_notify protocol on our own NOTIFY_SOCKET
python3 tests/e2e/notify_listener.py "$T_TMP/notify" 6 >"$T_TMP/notify.out" &
lpid=$!
wait_for "listener" 5 test -e "$T_TMP/notify.ready"
NOTIFY_SOCKET=$T_TMP/notify WATCHDOG_USEC=3000000 "$KMEMWATCHD" --user root --config /dev/null \
    --socket "$T_TMP/n.sock" --state-dir "$T_TMP/n.state" --proc-root "$T_TMP/proc" >"$T_TMP/n.log" 2>&1 &
npid=$!
DAEMON_PIDS+=("$npid")
wait_for "READY" 5 grep -q 'READY=1' "$T_TMP/notify.out"
sleep 2.2
kill -TERM "$npid"; wait "$npid"
expect_eq "SIGTERM: exit 0" "$?" 0
wait "$lpid"
msgs=$(cat "$T_TMP/notify.out")
expect_match "READY=1 is sent" "$msgs" 'READY=1'
first_ready=$(grep -n 'READY=1' <<<"$msgs" | head -1 | cut -d: -f1)
expect_eq "READY=1 is the first message (after the first sample)" "$first_ready" 1
expect_match "STATUS= carries the sample count" "$msgs" 'STATUS=[0-9]+ samples'
n_wd=$(grep -c 'WATCHDOG=1' <<<"$msgs")
if [ "$n_wd" -ge 2 ]; then ok "WATCHDOG=1 after each sampling tick ($n_wd)"; else not_ok "WATCHDOG=1 seen $n_wd times" "$msgs"; fi
expect_match "STOPPING=1 on SIGTERM" "$(tail -1 <<<"$msgs")" 'STOPPING=1'

# STATUS= names a failing source
rm "$T_TMP/proc/vmallocinfo"
python3 tests/e2e/notify_listener.py "$T_TMP/notify2" 3 >"$T_TMP/notify2.out" &
lpid=$!
wait_for "listener" 5 test -e "$T_TMP/notify2.ready"
NOTIFY_SOCKET=$T_TMP/notify2 "$KMEMWATCHD" --user root --config /dev/null \
    --socket "$T_TMP/n2.sock" --state-dir "$T_TMP/n2.state" --proc-root "$T_TMP/proc" >"$T_TMP/n2.log" 2>&1 &
npid=$!
DAEMON_PIDS+=("$npid")
wait "$lpid"
kill -TERM "$npid"; wait "$npid"
expect_match "STATUS= names the failing source" "$(cat "$T_TMP/notify2.out")" 'STATUS=.*vmallocinfo: no such file'
expect_match "READY=1 even with a source missing" "$(cat "$T_TMP/notify2.out")" 'READY=1'
finish
