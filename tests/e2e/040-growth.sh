#!/bin/bash
# Growth and leak suspects on the real growth trace (a recording, --replay),
# the socket's growth command, and a daemon that sees a leak made by
# rewriting its fixture slabinfo: the suspect line in its log and metrics.
. tests/e2e/lib.sh
t_setup

REC=$T_TMP/trace.kmw
run "$KMEMCTL" import "$FIX/growth-trace" "$REC"
expect_eq "import the growth trace" "$RC:$ERR" "0:"
tns() { cat "$FIX/growth-trace/$1/time_ns"; }
# the window's end in unix seconds with milliseconds, rounded up so the sample is inside
at14=$(python3 -c "import sys; n=int(sys.argv[1]); print('%d.%03d' % (n // 10**9, -(-(n % 10**9) // 10**6)))" "$(tns 014)")

# ---- the ramp: samples 005 to 014 (9 s) ----
run "$KMEMCTL" --replay "$REC" --json growth --window 9s --at "$at14" --top 1000
expect_eq "growth on a recording: exit 0" "$RC:$ERR" "0:"
G=$OUT
expect_eq "window and records: samples 005-014" "$(json_get "$G" 'd["ok"], d["window"], d["records"], d["tier"]')" \
    "(True, 9, 10, 'full')"
expect_eq "growers sorted by per_hour, largest first" \
    "$(json_get "$G" 'all(a["per_hour"] >= b["per_hour"] for a, b in zip(d["growers"], d["growers"][1:])) and all(g["per_hour"] > 0 for g in d["growers"])')" True
expect_eq "every grower has the documented keys" \
    "$(json_get "$G" 'all(set(("kind","name","field","unit","per_hour","net","steadiness","suspect")) <= set(g) for g in d["growers"])')" True
pick() {   # kind name field -> "per_hour>0 steadiness suspect"
    json_get "$G" "[(g['per_hour'] > 0, g['steadiness'] > 0.8, g['suspect']) for g in d['growers'] if (g['kind'], g['name'], g['field']) == ('$1', '$2', '$3')]"
}
expect_eq "thread stacks: vmalloc kernel_clone bytes grows steadily, a suspect" "$(pick vmalloc kernel_clone bytes)" "[(True, True, True)]"
expect_eq "pipes: kmalloc cg-1024 bytes_total, a suspect" "$(pick kmalloc cg-1024 bytes_total)" "[(True, True, True)]"
expect_eq "pipes: kmalloc cg-192 grows steadily, under 1 MiB: not a suspect" "$(pick kmalloc cg-192 bytes_total)" "[(True, True, False)]"
expect_eq "files: slab dentry bytes_total, a suspect" "$(pick slab dentry bytes_total)" "[(True, True, True)]"
expect_eq "the top vmalloc caller is kernel_clone" \
    "$(json_get "$G" '[g["name"] for g in d["growers"] if g["kind"] == "vmalloc" and g["name"] != "total"][0]')" kernel_clone
expect_eq "the top kmalloc class is cg-1024" \
    "$(json_get "$G" '[g["name"] for g in d["growers"] if g["kind"] == "kmalloc" and not g["name"].startswith("total-")][0]')" cg-1024
expect_eq "dentry is among the three fastest slab caches" \
    "$(json_get "$G" '"dentry" in [g["name"] for g in d["growers"] if g["kind"] == "slab" and g["field"] == "bytes_total"][:3]')" True
expect_eq "kernel_clone grew by 100 stacks of 20 KiB a second: 9 x 100 x 20480 bytes (5%)" \
    "$(json_get "$G" '[abs(g["net"] - 9*100*20480) < 0.05*9*100*20480 for g in d["growers"] if (g["kind"], g["name"], g["field"]) == ("vmalloc", "kernel_clone", "bytes")]')" "[True]"
expect_eq "free memory is never a suspect" \
    "$(json_get "$G" '[g for g in d["growers"] if g["suspect"] and (g["kind"] == "buddy" or g["field"] in ("MemFree", "MemAvailable", "num_objs", "pages"))]')" "[]"

run "$KMEMCTL" --replay "$REC" growth --window 9s --at "$at14"
expect_eq "human table: exit 0" "$RC" 0
expect_match "human table: header line" "$(head -1 <<<"$OUT")" '^growth over 9s to .* \(full tier, 10 records\): [0-9]+ leak suspects'
expect_match "human table: kernel_clone row in bytes per hour" "$OUT" '^vmalloc +kernel_clone +bytes +\+[0-9.]+G/h +\+1[89]\.[0-9]M +0\.[89][0-9] +yes$'
expect_eq "human table: 20 rows by default" "$(tail -n +4 <<<"$OUT" | wc -l)" 20
run "$KMEMCTL" --replay "$REC" --csv growth --window 9s --at "$at14" --match '^kernel_clone$'
expect_eq "CSV with --match" "$(head -1 <<<"$OUT"); $(tail -n +2 <<<"$OUT" | cut -d, -f1-4,9 | paste -sd' ')" \
    "kind,name,field,unit,per_hour,net,steadiness,points,suspect; vmalloc,kernel_clone,bytes,bytes,1 vmalloc,kernel_clone,pages,pages,0"

run "$KMEMCTL" --replay "$REC" check --window 9s --at "$at14"
expect_eq "check during the ramp: exit 1" "$RC" 1
for s in "vmalloc kernel_clone bytes" "kmalloc cg-1024 bytes_total" "slab dentry bytes_total"; do
    expect_match "check names $s" "$OUT" "^suspect: $s grew \+[0-9.]+[KMG] in 9s \(\+[0-9.]+[KMG]/h, steadiness 0\.[0-9]+\)$"
done
expect_no_match "check: only byte series of consumption" "$OUT" 'MemFree|num_objs|pages|buddy'
run "$KMEMCTL" --replay "$REC" check --window 9s --at -14s
expect_eq "check --at -14s (before the recording's end): still the ramp" "$RC:$(grep -c kernel_clone <<<"$OUT")" "1:1"
run "$KMEMCTL" --replay "$REC" check --window 9s --at "$at14" --threshold 100M
expect_eq "check --threshold 100M: only Slab grew that much" "$RC:$OUT" "1:$(grep '^suspect: meminfo - Slab ' <<<"$OUT")"
expect_eq "... one line" "$(wc -l <<<"$OUT")" 1
run "$KMEMCTL" --replay "$REC" --json check --window 9s --at "$at14"
expect_eq "check --json: the suspects only" "$RC $(json_get "$OUT" 'all(g["suspect"] for g in d["growers"]) and len(d["growers"]) == d["suspects"]')" "1 True"

# ---- after the release: samples 020 to 029, and the whole trace ----
run "$KMEMCTL" --replay "$REC" --json growth --window 9s --top 1000
expect_eq "after the release: no suspect" "$RC $(json_get "$OUT" 'd["records"], d["suspects"]')" "0 (10, 0)"
run "$KMEMCTL" --replay "$REC" check --window 9s
expect_eq "check after the release: exit 0, nothing printed" "$RC:$OUT" "0:"
run "$KMEMCTL" --replay "$REC" check --window 30s
expect_eq "check over the whole trace (net ~0): exit 0" "$RC:$OUT" "0:"
run "$KMEMCTL" --replay "$REC" check
expect_eq "check with the default window (1h): exit 0" "$RC:$OUT" "0:"
run "$KMEMCTL" --replay "$REC" --json growth --window 30s --top 1000
expect_eq "whole trace: kernel_clone ramped and fell back, not steady" \
    "$(json_get "$OUT" '[g["steadiness"] < 0.1 for g in d["growers"] if (g["kind"], g["name"], g["field"]) == ("vmalloc", "kernel_clone", "bytes")] in ([], [True])')" True

# ---- errors: exit 2, one line ----
for args in "check --window 0" "check --window nope" "growth --at yesterday" "check --threshold lots" \
            "slab --window 9s" "check --top 3"; do
    run "$KMEMCTL" --replay "$REC" $args
    expect_eq "error: kmemctl $args -> exit 2, one line" "$RC $(wc -l <<<"$ERR")" "2 1"
done
run "$KMEMCTL" --proc-root "$FIX/idle" check
expect_match "check without a daemon or a recording" "$RC $ERR" '^2 kmemctl: check needs kmemwatchd (.* )?or --replay FILE'

# ---- the socket: growth DURATION [TOP [SIZE]] ----
cp -r "$FIX/idle" "$T_TMP/proc"
printf 'growth_min_window = 5s\ngrowth_min_size = 256K\n' >"$T_TMP/growth.conf"
# A leak: kmalloc-cg-1k gains two slabs of 4 pages every 0.2 s (640 KiB a second).  The daemon keeps
# the file open and re-reads it, so it is rewritten in place, always at the
# same length (the numbers padded), in one write.
cat >"$T_TMP/leak.py" <<'PY'
import os, sys, time
path, steps = sys.argv[1], int(sys.argv[2])
lines = open(path).read().split("\n")
i = [k for k, l in enumerate(lines) if l.startswith("kmalloc-cg-1k ")][0]
f = lines[i].split()
fd = os.open(path, os.O_WRONLY | (0 if steps else os.O_TRUNC))
for s in range(0, steps + 1):
    slabs = int(f[14]) + 2 * s
    g = list(f)
    g[1] = g[2] = str(slabs * int(f[4])).rjust(8)
    g[13] = g[14] = str(slabs).rjust(8)
    lines[i] = " ".join(g)
    os.pwrite(fd, "\n".join(lines).encode(), 0)
    if steps:
        time.sleep(0.2)
PY
python3 "$T_TMP/leak.py" "$T_TMP/proc/slabinfo" 0
start_daemon d1 --proc-root "$T_TMP/proc" --interval 0.2 --config "$T_TMP/growth.conf" ||
    { not_ok "daemon starts" "$(cat "$DLOG")"; finish; }
python3 "$T_TMP/leak.py" "$T_TMP/proc/slabinfo" 60 &
LEAK=$!
run $KWCLIENT "$SOCK" hello
expect_eq "hello: the growth rule" "$(json_get "$OUT" 'd["growth"]')" "{'min_window': 5, 'min_size': 262144, 'suspects': 0}"
run $KWCLIENT "$SOCK" "growth" "growth 0" "growth 1m x" "growth 1m 5 lots" "growth 1m 5 1M extra"
expect_eq "growth: bad arguments are errors" "$(while read -r l; do json_get "$l" 'd["ok"]'; done <<<"$OUT" | paste -sd' ')" \
    "False False False False False"
sleep 4
run $KWCLIENT "$SOCK" "growth 3s 3" "growth 3s 0 64M"
g1=$(head -1 <<<"$OUT")
g2=$(tail -1 <<<"$OUT")
expect_eq "growth 3s 3: the leak as cache, class and class total, suspects" \
    "$(json_get "$g1" 'd["ok"], d["window"], sorted((g["kind"], g["name"], g["suspect"]) for g in d["growers"])')" \
    "(True, 3, [('kmalloc', 'cg-1024', True), ('kmalloc', 'total-1024', True), ('slab', 'kmalloc-cg-1k', True)])"
expect_eq "growth 3s 0 64M: SIZE raises the bar" \
    "$(json_get "$g2" 'd["min_size"], d["suspects"], any(g["name"] == "kmalloc-cg-1k" for g in d["growers"])')" "(67108864, 0, True)"
run "$KMEMCTL" --socket "$SOCK" check --window 3s --threshold 64K
expect_eq "kmemctl check through the daemon: exit 1" "$RC $(grep -c '^suspect: kmalloc cg-1024 bytes_total' <<<"$OUT")" "1 1"
run "$KMEMCTL" --socket "$SOCK" --json growth --window 3s --at -1s
expect_eq "kmemctl growth --at through the ring descriptor" \
    "$(json_get "$OUT" 'd["window"], d["min_size"], "kmalloc-cg-1k" in [g["name"] for g in d["growers"][:3]]')" "(3, 262144, True)"
# the daemon's own evaluation runs every 10 s over growth_min_window
wait_for "suspect logged" 15 grep -q 'leak suspect: slab kmalloc-cg-1k bytes_total' "$DLOG"
expect_match "log: the suspect, warning priority, its series" "$(cat "$DLOG")" \
    '^<4>leak suspect: slab kmalloc-cg-1k bytes_total grew \+[0-9.]+[KM] in 5s \(\+[0-9.]+[MG]/h, steadiness 0\.[0-9]+\) KMEMWATCH_SERIES=slab/kmalloc-cg-1k/bytes_total$'
run $KWCLIENT "$SOCK" --metrics
expect_match "metrics: kmemwatch_leak_suspect for it" "$OUT" '^kmemwatch_leak_suspect\{kind="slab",name="kmalloc-cg-1k",field="bytes_total"\} 1$'
expect_match "metrics: its growth rate over the configured window" "$OUT" \
    '^kmemwatch_growth_bytes_per_hour\{kind="slab",name="kmalloc-cg-1k",field="bytes_total",window="5"\} [0-9]+$'
expect_match "metrics: the number of suspects" "$OUT" '^kmemwatch_leak_suspects [1-9][0-9]*$'
run $KWCLIENT "$SOCK" hello
expect_eq "hello: suspects counted" "$(json_get "$OUT" 'd["growth"]["suspects"] >= 1')" True
wait "$LEAK"
expect_no_match "no meminfo or buddy suspect from a slab leak on a fixture" "$(cat "$DLOG")" 'suspect: (buddy|meminfo)'
expect_no_match "the file was never read half-written" "$(cat "$DLOG")" 'slabinfo:[0-9]+:'

# ---- a slow leak seen over the hour only: two hours of per-minute history ----
# kmalloc-cg-1k gains two 16 KiB slabs a minute: 320 KiB in 10 minutes (under
# growth_min_size), 1.9 MiB in the hour.  The daemon starts on that history
# and judges the hour as well as its 10-minute minimum.
python3 - "$FIX/idle" "$T_TMP/slow" <<'PY'
import os, sys, time
src, out = sys.argv[1], sys.argv[2]
lines = open(src + "/slabinfo").read().split("\n")
i = [k for k, l in enumerate(lines) if l.startswith("kmalloc-cg-1k ")][0]
f = lines[i].split()
now = time.time_ns()
def slab(n):
    g = list(f)
    g[1] = g[2] = str(n * int(f[4]))
    g[13] = g[14] = str(n)
    return "\n".join(lines[:i] + [" ".join(g)] + lines[i + 1:])
for m in range(120):
    d = "%s/%03d" % (out, m)
    os.makedirs(d)
    for name in ("vmallocinfo", "buddyinfo", "meminfo", "pagesize"):
        os.symlink(os.path.abspath(src + "/" + name), d + "/" + name)
    open(d + "/slabinfo", "w").write(slab(int(f[14]) + 2 * m))
    open(d + "/time_ns", "w").write(str(now - (120 - m) * 60 * 10**9))
os.makedirs(out + "-proc")
for name in ("vmallocinfo", "buddyinfo", "meminfo"):
    os.symlink(os.path.abspath(src + "/" + name), out + "-proc/" + name)
open(out + "-proc/slabinfo", "w").write(slab(int(f[14]) + 2 * 120))
PY
mkdir -p "$T_TMP/slow.state"
run "$KMEMCTL" import "$T_TMP/slow" "$T_TMP/slow.state/ring.kmw"
expect_eq "two hours of per-minute snapshots imported" "$RC:$ERR" "0:"
# Under systemd, with stderr connected to journald (JOURNAL_STREAM), the
# lines go to the journal with fields.  Where no journald runs (a container,
# CI), a stand-in listens on its socket for this daemon.
JSOCK=/run/systemd/journal/socket
JOURNAL=
if [ ! -e "$JSOCK" ] && [ "$(id -u)" = 0 ] && mkdir -p /run/systemd/journal 2>/dev/null; then
    trap 'rm -f "$JSOCK"; rmdir /run/systemd/journal 2>/dev/null; t_cleanup' EXIT
    python3 - "$JSOCK" "$T_TMP/journal" <<'PY' >"$T_TMP/journald.out" 2>&1 &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
with open(sys.argv[2], "ab") as f:
    while True:
        f.write(s.recv(1 << 20) + b"--\n")
        f.flush()
PY
    DAEMON_PIDS+=("$!")
    wait_for "stand-in journald" 10 grep -q ready "$T_TMP/journald.out" && JOURNAL=$T_TMP/journal
fi
touch "$T_TMP/slow.log"
[ -n "$JOURNAL" ] && export JOURNAL_STREAM=$(stat -c '%d:%i' "$T_TMP/slow.log")
start_daemon slow --proc-root "$T_TMP/slow-proc" --interval 1 ||
    { not_ok "daemon starts on the history" "$(cat "$DLOG")"; finish; }
unset JOURNAL_STREAM
line='leak suspect: slab kmalloc-cg-1k bytes_total grew \+1\.[89]M in 1h \(\+1\.[89]M/h, steadiness 0\.[89][0-9]\)'
if [ -n "$JOURNAL" ]; then
    wait_for "slow leak sent to the journal" 20 grep -q 'KMEMWATCH_EVENT=suspect' "$JOURNAL"
    entry=$(awk -v RS='--\n' '/KMEMWATCH_SERIES=slab\/kmalloc-cg-1k\/bytes_total/' "$JOURNAL")
    expect_match "journal: the slow leak, judged over the hour" "$entry" "^MESSAGE=$line\$"
    for f in PRIORITY=4 SYSLOG_IDENTIFIER=kmemwatchd MESSAGE_ID=fc55a527c8d14b5b84a7618c1cbc7666 \
             KMEMWATCH_EVENT=suspect KMEMWATCH_SERIES=slab/kmalloc-cg-1k/bytes_total KMEMWATCH_KIND=slab \
             KMEMWATCH_NAME=kmalloc-cg-1k KMEMWATCH_FIELD=bytes_total KMEMWATCH_WINDOW=3600; do
        expect_match "journal: field $f" "$entry" "^$f\$"
    done
    expect_match "journal: numeric fields" "$entry" '^KMEMWATCH_NET_BYTES=[0-9]+$'
    expect_no_match "... and not on stderr as well" "$(cat "$DLOG")" 'leak suspect'
else
    wait_for "slow leak logged" 20 grep -q 'leak suspect: slab kmalloc-cg-1k' "$DLOG"
    expect_match "log: the slow leak, judged over the hour" "$(cat "$DLOG")" \
        "^<4>$line KMEMWATCH_SERIES=slab/kmalloc-cg-1k/bytes_total\$"
fi
run "$KMEMCTL" --socket "$SOCK" check --window 10m
expect_eq "check --window 10m: too little growth there" "$RC:$OUT" "0:"
run "$KMEMCTL" --socket "$SOCK" check --window 1h
expect_eq "check --window 1h: the slow leak" "$RC $(grep -c '^suspect: kmalloc cg-1024 bytes_total grew' <<<"$OUT")" "1 1"
run $KWCLIENT "$SOCK" --metrics
expect_match "metrics: kmemwatch_leak_suspect for it (found over the hour)" "$OUT" \
    '^kmemwatch_leak_suspect\{kind="slab",name="kmalloc-cg-1k",field="bytes_total"\} 1$'
finish
