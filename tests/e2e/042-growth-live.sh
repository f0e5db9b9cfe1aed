#!/bin/bash
# Leak suspects on the live kernel: a slow steady leak made here (threads
# added every second: kernel stacks under vmalloc kernel_clone) is flagged by
# kmemctl check, in the daemon's log and in its metrics; released, it stops
# being a suspect; a burst of pipes that is held and released is never one.
# About two and a half minutes.
. tests/e2e/lib.sh
t_setup
if [ ! -r /proc/slabinfo ] || [ ! -r /proc/vmallocinfo ] || [ "$(id -u)" != 0 ]; then
    ok "live growth # SKIP needs root (/proc/slabinfo, /proc/vmallocinfo)"
    finish
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'growth_min_window = 60s\ngrowth_min_size = 1M\n' >"$T_TMP/growth.conf"
start_daemon live --config "$T_TMP/growth.conf" --metrics "127.0.0.1:$PORT" ||
    { not_ok "daemon starts on /proc" "$(cat "$DLOG")"; finish; }
ok "daemon on the live kernel, growth_min_window 60s"

# grow.py holds what it made until its stdin closes
hold() {   # NAME ARGS...: start grow.py with a fifo on stdin
    mkfifo "$T_TMP/$1.in"
    python3 tests/e2e/grow.py "${@:2}" <"$T_TMP/$1.in" >"$T_TMP/$1.out" 2>&1 &
    DAEMON_PIDS+=("$!")
    exec {fd}>"$T_TMP/$1.in"
    eval "HOLD_$1=$fd"
}
release() { local v="HOLD_$1"; eval "exec ${!v}>&-"; }

# ---- a slow leak: 2000 threads over 100 s, 20 a second, each a 20 KiB kernel stack ----
# Other processes on the machine start and stop threads too: the leak is
# checked while it runs, every few seconds over the last minute, until the
# check sees it (a leak must be flagged while it grows; what must never be
# flagged is checked strictly below).
hold steady steady threads 2000 100
sleep 62
for i in $(seq 12); do
    run "$KMEMCTL" --socket "$SOCK" --json check --window 60s --threshold 1M
    if [ "$RC" = 1 ] && grep -q '"kernel_clone"' <<<"$OUT"; then break; fi
    sleep 3
done
C=$OUT
expect_eq "kmemctl check --window 60s during the leak: exit 1" "$RC" 1
expect_eq "... kernel_clone's stacks grew steadily by megabytes: a suspect" \
    "$(json_get "$C" '[(g["net"] > 8 << 20, g["steadiness"] > 0.6, g["suspect"]) for g in d["growers"] if (g["kind"], g["name"], g["field"]) == ("vmalloc", "kernel_clone", "bytes")]')" \
    "[(True, True, True)]"
expect_eq "... vmalloc total too" \
    "$(json_get "$C" '[g["suspect"] for g in d["growers"] if (g["kind"], g["name"], g["field"]) == ("vmalloc", "total", "bytes")]')" "[True]"
expect_eq "... and no free-memory or count series" \
    "$(json_get "$C" '[g["name"] + " " + g["field"] for g in d["growers"] if not g["field"] in ("bytes", "bytes_total", "Slab", "SReclaimable", "SUnreclaim", "KReclaimable", "VmallocUsed", "Percpu")]')" "[]"
run "$KMEMCTL" --socket "$SOCK" check --window 60s --threshold 1M
expect_match "kmemctl check: one line per suspect" "$OUT" \
    '^suspect: vmalloc kernel_clone bytes grew \+[0-9.]+M in 1m \(\+[0-9.]+[MG]/h, steadiness 0\.[0-9]+\)$'
wait_for "daemon flags it" 20 grep -q 'leak suspect: vmalloc kernel_clone bytes' "$DLOG"
expect_match "log: <4>leak suspect line with KMEMWATCH_SERIES" "$(cat "$DLOG")" \
    '^<4>leak suspect: vmalloc kernel_clone bytes grew \+[0-9.]+M in 1m \(.*\) KMEMWATCH_SERIES=vmalloc/kernel_clone/bytes$'
run curl -s "http://127.0.0.1:$PORT/metrics"
expect_match "metrics over HTTP: kmemwatch_leak_suspect for kernel_clone" "$OUT" \
    '^kmemwatch_leak_suspect\{kind="vmalloc",name="kernel_clone",field="bytes"\} 1$'
expect_match "metrics over HTTP: its growth rate" "$OUT" \
    '^kmemwatch_growth_bytes_per_hour\{kind="vmalloc",name="kernel_clone",field="bytes",window="60"\} [1-9][0-9]+$'

wait_for "steady leak done" 60 grep -q '^ready$' "$T_TMP/steady.out" ||
    not_ok "grow.py steady finished" "$(cat "$T_TMP/steady.out")"

# ---- released: the stacks go, the suspect clears ----
release steady
t_release=$(date +%s)
# ---- a burst: 9000 pipes at once (about 9 MiB of kmalloc-cg-1k), held 10 s, released ----
hold burst pipes 9000
wait_for "burst held" 30 grep -q '^ready$' "$T_TMP/burst.out" || not_ok "grow.py pipes" "$(cat "$T_TMP/burst.out")"
sleep 10
run "$KMEMCTL" --socket "$SOCK" --json growth --window 30s --top 1000
expect_eq "while the burst is held: pipes grew (kmalloc cg-1024), one step, not a suspect" \
    "$(json_get "$OUT" '[(g["net"] > 4 << 20, g["suspect"]) for g in d["growers"] if (g["kind"], g["name"], g["field"]) == ("kmalloc", "cg-1024", "bytes_total")]')" \
    "[(True, False)]"
release burst
wait_for "cleared" 80 grep -q 'no longer a leak suspect: vmalloc kernel_clone bytes' "$DLOG"
expect_match "log: <5>no longer a leak suspect, after the release" "$(cat "$DLOG")" \
    '^<5>no longer a leak suspect: vmalloc kernel_clone bytes \(-[0-9.]+[KM] in the last 1m, steadiness 0\.[0-9]+\) KMEMWATCH_SERIES=vmalloc/kernel_clone/bytes$'
expect_eq "... cleared within 60 s of the release" "$(( $(date +%s) - t_release <= 60 ))" 1
sleep 5
run "$KMEMCTL" --socket "$SOCK" check --window 90s --threshold 1M
expect_no_match "check over the release and the burst: kernel_clone is not a suspect" "$OUT" 'kernel_clone'
expect_no_match "... nor the pipes' classes" "$OUT" 'cg-1024|kmalloc-cg-1k|cg-192'
expect_no_match "log: the burst was never a suspect" "$(cat "$DLOG")" 'leak suspect: (kmalloc cg-1024|slab kmalloc-cg-1k)'
run curl -s "http://127.0.0.1:$PORT/metrics"
expect_no_match "metrics: kernel_clone no longer a suspect" "$OUT" '^kmemwatch_leak_suspect\{kind="vmalloc",name="kernel_clone"'
finish
