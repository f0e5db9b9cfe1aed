#!/bin/bash
# kmemwatchd under faults: sources missing, unreadable or turning bad,
# corrupt ring files, stale sockets, broken reloads, client limits.
. tests/e2e/lib.sh
t_setup
P=$T_TMP/proc
cp -r "$FIX/idle" "$P"
rm "$P/vmallocinfo"
start_daemon f1 --proc-root "$P" --interval 0.2 || { not_ok "daemon starts without vmallocinfo" "$(cat "$DLOG")"; finish; }
ok "daemon starts with a source missing"
run $KWCLIENT "$SOCK" hello
expect_match "hello: the missing source's error" "$(json_get "$OUT" 'd["sources"]["vmallocinfo"]["error"]')" \
    "$P/vmallocinfo: no such file"
expect_eq "hello: the other sources sample" "$(json_get "$OUT" 'd["sources"]["slabinfo"]["error"] is None and d["sources"]["slabinfo"]["samples"] > 0')" True
run $KWCLIENT "$SOCK" vmalloc
expect_match "vmalloc request: error naming the file" "$OUT" '"ok": *false.*vmallocinfo'
cp "$FIX/idle/vmallocinfo" "$P/vmallocinfo"
wait_for "vmallocinfo picked up" 5 bash -c "$KWCLIENT $SOCK vmalloc | grep -q '\"ok\": *true'"
run $KWCLIENT "$SOCK" vmalloc
expect_match "a source that appears later is picked up" "$OUT" '"ok": *true'

# a source turning bad mid-run, in place
cp "$P/slabinfo" "$T_TMP/slabinfo.good"
printf 'slabinfo - version: 2.1\n# name <active_objs>\ndentry 1 2 garbage\n' >"$P/slabinfo"
sleep 0.6
run $KWCLIENT "$SOCK" hello
expect_match "garbage in place: hello names file and line" "$(json_get "$OUT" 'd["sources"]["slabinfo"]["error"]')" "$P/slabinfo:3: "
expect_eq "garbage in place: the others continue" "$(json_get "$OUT" 'd["sources"]["meminfo"]["error"] is None')" True
s1=$(json_get "$OUT" 'd["sources"]["meminfo"]["samples"]')
sleep 0.5
run $KWCLIENT "$SOCK" hello
expect_eq "... and keep sampling" "$(json_get "$OUT" 'd["sources"]["meminfo"]["samples"] > '"$s1")" True
truncate -s 1000 "$P/buddyinfo" 2>/dev/null; head -c 50 "$FIX/idle/buddyinfo" >"$P/buddyinfo"
sleep 0.5
run $KWCLIENT "$SOCK" hello
expect_match "truncated in place: error" "$(json_get "$OUT" 'd["sources"]["buddyinfo"]["error"]')" 'buddyinfo:1: .*trunc'
cp "$T_TMP/slabinfo.good" "$P/slabinfo"; cp "$FIX/idle/buddyinfo" "$P/buddyinfo"
sleep 0.6
run $KWCLIENT "$SOCK" hello
expect_eq "restored: errors clear" "$(json_get "$OUT" '[d["sources"][s]["error"] for s in ("slabinfo","buddyinfo")]')" "[None, None]"
expect_match "log: the failure and the recovery, once each" "$(grep -c 'slabinfo:3' "$DLOG") $(grep -c 'slabinfo: readable again' "$DLOG")" '^1 1$'

# SIGHUP: a broken config is refused, a good one applied
printf 'interval = 0.5\n' >"$T_TMP/good.conf"
printf 'interval = 0.5\nbogus_key = 1\n' >"$T_TMP/bad.conf"
stop_daemon "$DPID"
start_daemon f2 --proc-root "$P" --config "$T_TMP/good.conf" || { not_ok "daemon with a config" "$(cat "$DLOG")"; finish; }
# (--config given after start_daemon's --config /dev/null wins)
run $KWCLIENT "$SOCK" hello
expect_eq "config file applied" "$(json_get "$OUT" 'd["sources"]["slabinfo"]["interval"]')" 0.5
cp "$T_TMP/bad.conf" "$T_TMP/good.conf"
kill -HUP "$DPID"
wait_for "reload error" 5 grep -q 'keeping the running configuration' "$DLOG"
expect_match "SIGHUP with a broken config: error names file and line, old config kept" "$(cat "$DLOG")" \
    "good.conf:2: unknown key 'bogus_key'; keeping the running configuration"
run $KWCLIENT "$SOCK" hello
expect_eq "... and the daemon still answers with the old settings" "$(json_get "$OUT" 'd["ok"], d["sources"]["slabinfo"]["interval"]')" "(True, 0.5)"
printf 'interval = 0.3\nvmallocinfo_interval = 2\n' >"$T_TMP/good.conf"
kill -HUP "$DPID"
wait_for "reload ok" 5 grep -q 'configuration from .* applied' "$DLOG"
run $KWCLIENT "$SOCK" hello
expect_eq "SIGHUP with a good config: intervals changed" \
    "$(json_get "$OUT" 'd["sources"]["slabinfo"]["interval"], d["sources"]["vmallocinfo"]["interval"]')" "(0.3, 2.0)"
stop_daemon "$DPID"

# ring file corrupt, truncated, foreign: moved aside, a new ring started
ring=$T_TMP/f2.state/ring.kmw
for how in garbage truncate; do
    case $how in
        garbage) head -c 100000 /dev/urandom | dd of="$ring" conv=notrunc 2>/dev/null ;;
        truncate) truncate -s 5000 "$ring" ;;
    esac
    : >"$T_TMP/f2.log"
    start_daemon f2 --proc-root "$P" || { not_ok "start with a $how ring" "$(cat "$DLOG")"; continue; }
    expect_match "ring $how: reported in the log" "$(cat "$DLOG")" 'ring.kmw.*(moved|renamed)'
    n=$(ls "$T_TMP/f2.state" | grep -c 'ring.kmw.corrupt-')
    if [ "$n" -ge 1 ]; then ok "ring $how: moved aside ($n)"; else not_ok "ring $how: no .corrupt file" "$(ls -la "$T_TMP/f2.state")"; fi
    sleep 0.5
    run $KWCLIENT "$SOCK" "history slab dentry active_objs 1m"
    expect_eq "ring $how: the new ring records" "$(json_get "$OUT" 'd["ok"] and len(d["points"]) > 0')" True
    stop_daemon "$DPID"
    rm -f "$T_TMP"/f2.state/ring.kmw.corrupt-*
done

# stale socket file is replaced; a non-socket file is never removed
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T_TMP/stale.sock"
SOCK_STALE=$T_TMP/stale.sock
"$KMEMWATCHD" --socket "$SOCK_STALE" --state-dir "$T_TMP/st" --user root --config /dev/null --proc-root "$P" >"$T_TMP/st.log" 2>&1 &
spid=$!
DAEMON_PIDS+=("$spid")
wait_for "stale replaced" 5 bash -c "$KWCLIENT $SOCK_STALE hello"
run $KWCLIENT "$SOCK_STALE" hello
expect_match "stale socket replaced" "$OUT$(cat "$T_TMP/st.log")" 'protocol.*replacing a stale socket|replacing a stale socket'
stop_daemon "$spid"
echo "not a socket" >"$T_TMP/file.sock"
run "$KMEMWATCHD" --socket "$T_TMP/file.sock" --state-dir "$T_TMP/st2" --user root --config /dev/null --proc-root "$P"
expect_eq "a regular file at the socket path: refused, file kept" "$RC $(cat "$T_TMP/file.sock")" "1 not a socket"
expect_match "... with a message" "$ERR" 'exists and is not a socket'
run "$KMEMWATCHD" --socket "$T_TMP/$(head -c 120 /dev/zero | tr '\0' x).sock" --state-dir "$T_TMP/st3" --user root --config /dev/null --proc-root "$P"
expect_match "socket path too long: clear error" "$ERR" 'socket path longer than'

# connection limit and a stalled watcher
start_daemon f3 --proc-root "$P" --interval 0.1 --max-clients 3 || { not_ok "daemon f3" "$(cat "$DLOG")"; finish; }
printf 'client_queue_size = 64K\ninterval = 0.1\nmax_clients = 3\n' >"$T_TMP/q.conf"
stop_daemon "$DPID"
start_daemon f3 --proc-root "$P" --config "$T_TMP/q.conf" || { not_ok "daemon f3 with queue limit" "$(cat "$DLOG")"; finish; }
python3 - "$SOCK" >"$T_TMP/limit.out" <<'PY'
import socket, sys, time
path = sys.argv[1]
held = []
for i in range(3):
    s = socket.socket(socket.AF_UNIX); s.connect(path); held.append(s)
held[0].sendall(b"hello\n"); held[0].recv(65536)
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(path)
print(s.recv(4096).decode().strip())
# a watcher that never reads
w = held[1]; w.sendall(b"watch slab vmalloc kmalloc\n")
time.sleep(4)
held[2].sendall(b"hello\n"); held[2].settimeout(5)
print(held[2].recv(65536).decode().split("\n")[0][:40])
w.settimeout(2)
try:
    data = b""
    while True:
        chunk = w.recv(1 << 20)
        if not chunk: break
        data += chunk
    print("watcher closed after %d bytes" % len(data))
except Exception as e:
    print("watcher still open: %s" % e)
PY
out=$(cat "$T_TMP/limit.out")
expect_match "over the connection limit: refused with an error" "$(sed -n 1p <<<"$out")" '"ok": *false.*too many connections'
expect_match "other clients are served meanwhile" "$(sed -n 2p <<<"$out")" '"ok": *true'
expect_match "a watcher that never reads is disconnected" "$(sed -n 3p <<<"$out")" 'watcher closed'
expect_match "... and logged" "$(cat "$DLOG")" 'too far behind'
expect_match "refused client logged" "$(cat "$DLOG")" 'refused \(3 connections already\)'
run $KWCLIENT "$SOCK" hello
expect_eq "late samples: none while a client stalls" "$(json_get "$OUT" 'd["sources"]["slabinfo"]["late"]')" 0
finish
