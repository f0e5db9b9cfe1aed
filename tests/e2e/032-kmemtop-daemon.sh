#!/bin/bash
# kmemtop on a daemon: a private kmemwatchd on a copy of tests/fixtures/idle,
# kmemtop --socket on it in tmux.  The status line names the daemon; killing
# the daemon shows "reconnecting" (kmemtop stays up); a new daemon on the same
# socket is picked up again; t steps back through the daemon's ring, which
# kmemtop maps from the descriptor the daemon passes.  Batch mode on a socket.
. tests/e2e/lib.sh
t_setup

if ! command -v tmux >/dev/null; then
    ok "daemon tests # SKIP tmux not installed"
    finish
fi
cp -r "$FIX/idle" "$T_TMP/proc"
if ! start_daemon d --proc-root "$T_TMP/proc"; then
    not_ok "a private daemon starts" "$(cat "$DLOG" 2>/dev/null)"
    finish
fi
ok "a private daemon starts"
SOCK_RE=$(sed 's/[.[\*^$()+?{|]/\\&/g' <<<"$SOCK")

TMUX_SRV=kmemtop-daemon-$$
# tmux 3.3 leaves its socket behind after kill-server.
trap 'tm kill-server; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SRV"; t_cleanup' EXIT
wait_screen() {   # REGEX [tenths]: poll the pane until it shows REGEX; the pane is left in $PANE
    local i
    for i in $(seq "${2:-50}"); do
        PANE=$(tm capture-pane -p -t kt)
        grep -Eq -- "$1" <<<"$PANE" && return 0
        sleep 0.1
    done
    return 1
}
check_screen() {   # desc regex [tenths]
    if wait_screen "$2" "${3:-50}"; then ok "$1"; else not_ok "$1" "no /$2/ on the screen:" "$(tail -3 <<<"$PANE")"; fi
}

# --- batch ----------------------------------------------------------------------------
run "$KMEMTOP" --socket "$SOCK" --batch -n 2 --screen caches
expect_eq "batch on the daemon exits 0" "$RC|$ERR" "0|"
expect_eq "... two frames" "$(grep -cE '^kmemtop [0-9]{4}-' <<<"$OUT")" 2
expect_match "... the status line names the daemon" "$OUT" "^ daemon $SOCK_RE \\| sort MEMORY"
want=$(awk '$1=="dentry"{print $2, $3}' "$T_TMP/proc/slabinfo")
expect_eq "... with the fixture's numbers (dentry active, objs)" \
    "$(awk '$1=="dentry"{print $2, $3; exit}' <<<"$OUT")" "$want"
run "$KMEMTOP" --socket "$SOCK" --batch -n 1 --screen vmalloc
expect_match "... the vmalloc screen comes from the ring too" "$OUT" '^ +CALLER +TYPE +AREAS'
h=$(grep -E '^kmemtop [0-9]{4}-' <<<"$OUT" | head -1)
run "$KMEMTOP" --socket "$SOCK" --batch -n 1 --at "$(date +%s)" --screen caches
expect_eq "batch --at on the daemon shows a record of its ring" "$RC" 0

# --- interactive ------------------------------------------------------------------------
bin=$KMEMTOP
[[ $bin == /* ]] || bin=$PWD/$bin
tm new-session -d -s kt -x 120 -y 40 -c "$PWD" \
    "env LC_ALL=C.UTF-8 $bin --socket $SOCK 2>$T_TMP/err; echo \$? >$T_TMP/rc"
check_screen "the status line names the daemon" "^ daemon $SOCK_RE \\| sort MEMORY \\| window 10m"
check_screen "... and the caches come from it" '^[ !] dentry +[0-9]+ '
sleep 2 # a few records in the ring
tm send-keys -t kt t t
check_screen "t steps back through the daemon's ring" '\| at [0-9:]{8} \(-[0-9]+s\)'
tm send-keys -t kt T T T T
if wait_screen '\| at [0-9:]{8}' 1 && sleep 1.5 && wait_screen '\| at [0-9:]{8}' 1; then
    not_ok "T past the newest record follows the daemon again" "$(tail -1 <<<"$PANE")"
else
    ok "T past the newest record follows the daemon again"
fi
t0=$(tm capture-pane -p -t kt | head -1 | awk '{print $NF}')

stop_daemon "$DPID"
check_screen "the daemon is gone: the status line says reconnecting" \
    "^ daemon $SOCK_RE: reconnecting \\("
sleep 1.5
if tm has-session -t kt && [ ! -s "$T_TMP/rc" ]; then
    ok "... and kmemtop stays up, retrying"
else
    not_ok "... and kmemtop stays up, retrying" "rc $(cat "$T_TMP/rc" 2>/dev/null)" "$(cat "$T_TMP/err")"
fi
check_screen "... still showing the last record" '^[ !] dentry +[0-9]+ '
tm send-keys -t kt t
check_screen "... and its history can still be browsed" '\| at [0-9:]{8}'
tm send-keys -t kt z z

if ! start_daemon d --proc-root "$T_TMP/proc"; then
    not_ok "the daemon starts again" "$(tail -5 "$DLOG")"
else
    ok "the daemon starts again"
fi
check_screen "kmemtop reconnects: the status line names the daemon again" \
    "^ daemon $SOCK_RE \\| sort MEMORY" 60
sleep 1.5
t1=$(tm capture-pane -p -t kt | head -1 | awk '{print $NF}')
if [ -n "$t1" ] && [ "$t1" != "$t0" ]; then
    ok "... and follows its new samples (title time $t0 -> $t1)"
else
    not_ok "... and follows its new samples" "title time $t0 -> $t1"
fi
tm send-keys -t kt 5
check_screen "the buddy screen shows the daemon's zones" '^0:Normal +[0-9.]+[KMG] '
kmemtop_quit_ok kt

# --- a daemon without any ring: kmemtop reads the reports its watch events carry ----------
# kmemwatchd falls back to a ring in memory, so a stand-in speaks the protocol here: it
# refuses `ring` and sends events with the kmemctl --json reports of the fixture.
for k in slab vmalloc buddy meminfo; do
    "$KMEMCTL" --json --proc-root "$T_TMP/proc" "$k" >"$T_TMP/rep-$k.json"
done
cat >"$T_TMP/fake.py" <<'PY'
import json, os, socket, sys, threading, time
path, d = sys.argv[1], sys.argv[2]
reps = {k: json.load(open(os.path.join(d, "rep-%s.json" % k))) for k in ("slab", "vmalloc", "buddy", "meminfo")}
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
def serve(c):
    f = c.makefile("rwb")
    seq = 0
    for line in f:
        w = line.decode().split()
        if w[0] == "hello":
            out = {"ok": True, "protocol": 1, "version": "fake"}
        elif w[0] == "ring":
            out = {"ok": False, "error": "ring: no ring (see the daemon's log)"}
        elif w[0] == "watch":
            f.write(b'{"ok":true,"event":"watching"}\n')
            f.flush()
            while True:
                seq += 1
                ev = {"ok": True, "event": "sample", "time": time.time(), "seq": seq,
                      "sources": ["slabinfo", "vmallocinfo", "buddyinfo", "meminfo"]}
                ev.update({k: reps[k] for k in w[1:] if k in reps})
                try:
                    f.write((json.dumps(ev) + "\n").encode())
                    f.flush()
                except OSError:
                    return
                time.sleep(0.5)
        else:
            out = {"ok": False, "error": "unknown"}
        f.write((json.dumps(out) + "\n").encode())
        f.flush()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$T_TMP/fake.py" "$T_TMP/fake.sock" "$T_TMP" &
FAKE_PID=$!
DAEMON_PIDS+=("$FAKE_PID")
for _ in $(seq 50); do [ -S "$T_TMP/fake.sock" ] && break; sleep 0.1; done
run "$KMEMTOP" --socket "$T_TMP/fake.sock" --batch -n 2 --screen kmalloc
expect_eq "a daemon without a ring: batch works from the reports in its events" "$RC|$ERR" "0|"
expect_match "... the status line says it keeps no history" "$OUT" '\(it keeps no history\) \| sort SIZE'
expect_eq "... with the fixture's numbers (kmalloc 1k cg)" \
    "$(awk '$1=="1k"{print $3; exit}' <<<"$OUT")" \
    "$(awk '$1=="kmalloc-cg-1k"{s=$15*$6*4096; u="B"; if (s>=1024){s/=1024;u="K"} if (s>=1024){s/=1024;u="M"} printf (u=="B" ? "%d%s" : "%.1f%s"), s, u}' "$T_TMP/proc/slabinfo")"
run "$KMEMTOP" --socket "$T_TMP/fake.sock" --batch -n 2 --screen buddy
expect_eq "... the buddy screen from the report (first zone's order-0 blocks)" \
    "$(awk '$1=="0" && NF>=5 {print $3; exit}' <<<"$OUT")" "$(awk '{print $5; exit}' "$T_TMP/proc/buddyinfo")"
kill "$FAKE_PID" 2>/dev/null

# --- the daemon moves its history from memory to the state directory ----------------------
# A state directory that cannot be created makes the daemon keep its ring in memory and
# retry every 10 s; once it can, the history moves to a file and the mapped memory ring
# stops growing.  kmemtop must notice and map the new one.
: >"$T_TMP/blocker"
if start_daemon mv --proc-root "$T_TMP/proc" --state-dir "$T_TMP/blocker/state"; then
    tm new-session -d -s kt3 -x 120 -y 30 -c "$PWD" "$bin --socket $SOCK 2>$T_TMP/err3"
    PANE=""
    for _ in $(seq 50); do
        PANE=$(tm capture-pane -p -t kt3)
        grep -q '^[ !] dentry ' <<<"$PANE" && break
        sleep 0.1
    done
    expect_match "a daemon keeping its ring in memory is shown like any other" "$PANE" '^[ !] dentry '
    rm -f "$T_TMP/blocker"
    mkdir -p "$T_TMP/blocker/state"
    for _ in $(seq 150); do
        grep -q 'history saved there' "$DLOG" && break
        sleep 0.1
    done
    sleep 2.5
    ta=$(tm capture-pane -p -t kt3 | head -1 | awk '{print $NF}')
    sleep 2
    tb=$(tm capture-pane -p -t kt3 | head -1 | awk '{print $NF}')
    if grep -q 'history saved there' "$DLOG" && [ -n "$ta" ] && [ "$ta" != "$tb" ]; then
        ok "the daemon moved its ring to a file: kmemtop follows the new one ($ta -> $tb)"
    else
        not_ok "the daemon moved its ring to a file: kmemtop follows the new one" "title $ta -> $tb" \
            "$(tail -2 "$DLOG")" "$(tm capture-pane -p -t kt3 | tail -1)"
    fi
    tm kill-session -t kt3
else
    not_ok "a daemon with its ring in memory starts" "$(tail -3 "$DLOG")"
fi

# --- a socket with no daemon yet ---------------------------------------------------------
tm new-session -d -s kt2 -x 100 -y 30 -c "$PWD" \
    "$bin --socket $T_TMP/none.sock 2>$T_TMP/err2; echo \$? >$T_TMP/rc2"
PANE=""
for _ in $(seq 30); do
    PANE=$(tm capture-pane -p -t kt2)
    grep -q 'reconnecting' <<<"$PANE" && break
    sleep 0.1
done
expect_match "no daemon at the socket: kmemtop waits, saying why" "$PANE" \
    'reconnecting \(no such socket'
expect_match "... and that it waits for the daemon" "$PANE" '\(waiting for the daemon\)'
tm send-keys -t kt2 q
for _ in $(seq 30); do
    [ -s "$T_TMP/rc2" ] && break
    sleep 0.1
done
expect_eq "... q still quits" "$(cat "$T_TMP/rc2" 2>/dev/null)" 0

finish
