#!/bin/bash
# kmemwatchd protocol on fixtures: every command, the version reply, bad
# requests, limits.  A private daemon on a private socket and state dir.
. tests/e2e/lib.sh
t_setup
cp -r "$FIX/idle" "$T_TMP/proc"
start_daemon d1 --proc-root "$T_TMP/proc" --interval 0.2 || { not_ok "daemon starts" "$(cat "$DLOG")"; finish; }
ok "daemon starts and answers"

run $KWCLIENT "$SOCK" hello
expect_eq "hello: protocol 1 and the version" "$(json_get "$OUT" 'd["ok"], d["protocol"], d["version"]')" \
    "(True, 1, '$("$KMEMWATCHD" --version | awk '{print $2}')')"
expect_eq "hello: the four sources with their state" \
    "$(json_get "$OUT" 'sorted((k, v["error"]) for k, v in d["sources"].items())')" \
    "[('buddyinfo', None), ('meminfo', None), ('slabinfo', None), ('vmallocinfo', None)]"
expect_eq "hello: interval, samples, late, delayed, last" \
    "$(json_get "$OUT" 'all(set(("interval","last","samples","late","delayed","error")) <= set(v) for v in d["sources"].values()), d["sources"]["slabinfo"]["interval"]')" \
    "(True, 0.2)"

for cmd in slab kmalloc vmalloc buddy meminfo; do
    run "$KMEMCTL" --socket "$SOCK" --json $cmd
    d=$OUT
    run "$KMEMCTL" --proc-root "$T_TMP/proc" --json $cmd
    expect_eq "$cmd: daemon reply = direct read plus ok and time" \
        "$(json_get "$d" '{k: v for k, v in d.items() if k not in ("ok", "time")} == '"$(json_get "$OUT" 'd')"', d["ok"], d["time"] > 1e9')" \
        "(True, True, True)"
done

run "$KMEMCTL" --socket "$SOCK" slab
expect_match "kmemctl table from the daemon" "$OUT" 'NAME +ACTIVE'

sleep 1.2
run "$KMEMCTL" --socket "$SOCK" --json history slab dentry active_objs 10m
n=$(json_get "$OUT" 'len(d["points"])')
if [ "$n" -ge 4 ]; then ok "history: one point per sample ($n)"; else not_ok "history: expected >= 4 points, got $n" "$OUT"; fi
expect_eq "history: values are the file's" "$(json_get "$OUT" 'set(p[1] for p in d["points"])')" \
    "{$(awk '$1=="dentry"{print $2}' "$T_TMP/proc/slabinfo")}"
expect_eq "history: oldest first" "$(json_get "$OUT" 'all(a[0] < b[0] for a, b in zip(d["points"], d["points"][1:]))')" True
for q in "kmalloc cg-1024 bytes_total" "kmalloc total-1024 num_objs" "vmalloc kernel_clone bytes" \
         "vmalloc total pages" "buddy 0:Normal free_pages" "buddy 0:Normal order3" "buddy 0:DMA32 unusable9" \
         "meminfo - SUnreclaim"; do
    run $KWCLIENT "$SOCK" "history $q 1m"
    expect_eq "history $q" "$(json_get "$OUT" 'd["ok"] and len(d["points"]) > 0')" True
done
run $KWCLIENT "$SOCK" "history slab dentry active_objs 1m"
expect_eq "history from the socket: same series" "$(json_get "$OUT" 'd["points"][-1][1]')" \
    "$(awk '$1=="dentry"{print $2}' "$T_TMP/proc/slabinfo")"
run $KWCLIENT "$SOCK" "history meminfo - SUnreclaim 1m"
expect_eq "history meminfo value in bytes" "$(json_get "$OUT" 'd["points"][-1][1]')" \
    "$(( $(awk '$1=="SUnreclaim:"{print $2}' "$T_TMP/proc/meminfo") * 1024 ))"
run $KWCLIENT "$SOCK" "history kmalloc cg-1024 bytes_total 1m"
expect_eq "history kmalloc cg-1024 bytes_total = slabs x pages x 4096" "$(json_get "$OUT" 'd["points"][-1][1]')" \
    "$(awk '$1=="kmalloc-cg-1k"{print $15*$6*4096}' "$T_TMP/proc/slabinfo")"

# errors: each answered, the connection (and the daemon) survive
run $KWCLIENT "$SOCK" "frobnicate" "hello"
expect_match "unknown command is an error naming it" "$(head -1 <<<"$OUT")" '"ok": *false.*unknown command .frobnicate'
expect_match "... and the connection carries on" "$(tail -1 <<<"$OUT")" '"protocol": *1'
run $KWCLIENT "$SOCK" "history slab no_such_cache active_objs 1m"
expect_match "history of an unknown name" "$OUT" '"ok": *false'
run $KWCLIENT "$SOCK" "history slab dentry no_such_field 1m"
expect_match "history of an unknown field" "$OUT" '"ok": *false'
run $KWCLIENT "$SOCK" "history slab dentry active_objs -5m"
expect_match "negative history window" "$OUT" '"ok": *false.*duration'
run $KWCLIENT "$SOCK" "history slab dentry active_objs 99999d"
expect_match "huge history window" "$OUT" '"ok": *false'
run $KWCLIENT "$SOCK" "slab extra"
expect_match "arguments where none are taken" "$OUT" '"ok": *false'
run $KWCLIENT "$SOCK" --raw "$(head -c 6000 /dev/zero | tr '\0' 'a' | xxd -p | tr -d '\n')"
expect_match "overlong line: error, then close" "$OUT" '"ok": *false.*longer than 4096'
run $KWCLIENT "$SOCK" --raw "00ff10fe0a68656c6c6f0a"
expect_match "binary garbage: error" "$(head -1 <<<"$OUT")" '"ok": *false.*non-printable'
expect_match "... then the next request is served" "$(tail -1 <<<"$OUT")" '"protocol": *1'
run $KWCLIENT "$SOCK" --half "hel"
run $KWCLIENT "$SOCK" hello
expect_match "half a line then close: daemon still answers" "$OUT" '"ok": *true'
run "$KMEMCTL" --socket "$SOCK" --json history slab nope active_objs
expect_eq "kmemctl: daemon error is exit 2" "$RC" 2
expect_match "kmemctl: ... with the daemon's sentence" "$ERR" '^kmemctl: history: '

# metrics on the socket
run $KWCLIENT "$SOCK" --metrics
expect_eq "metrics: last line is # EOF" "$(tail -1 <<<"$OUT")" "# EOF"
expect_match "metrics: slab objects" "$OUT" '^kmemwatch_slab_objects\{cache="dentry",state="active"\} [0-9]+$'
expect_match "metrics: daemon counters" "$OUT" '^kmemwatch_samples_total\{source="slabinfo"\} [0-9]+$'
missing=$(grep -v '^#' <<<"$OUT" | sed 's/[{ ].*//' | sort -u | while read -r m; do grep -q "^# TYPE $m " <<<"$OUT" || echo "$m"; done)
expect_eq "metrics: every family has TYPE" "$missing" ""
run "$KMEMCTL" --socket "$SOCK" metrics
expect_no_match "kmemctl metrics drops the # EOF marker" "$OUT" '^# EOF$'

# watch
run $KWCLIENT "$SOCK" --watch 2 meminfo
expect_match "watch: acknowledged" "$(head -1 <<<"$OUT")" '"event": *"watching"'
expect_eq "watch: two sample events with the meminfo reply" \
    "$(tail -n +2 <<<"$OUT" | while read -r l; do json_get "$l" 'd["event"], "SUnreclaim" in d["meminfo"]["meminfo"]'; done | paste -sd' ')" \
    "('sample', True) ('sample', True)"

# ring descriptor
run $KWCLIENT "$SOCK" --ring
expect_match "ring: reply and a read-only descriptor" "$OUT" 'fd size=[1-9][0-9]* readonly=True'
run "$KMEMCTL" --socket "$SOCK" export "$T_TMP/export.kmw"
expect_eq "export through the passed descriptor" "$RC:$ERR" "0:"
run "$KMEMCTL" --replay "$T_TMP/export.kmw" --json slab
expect_eq "replay of the export: same caches" "$(json_get "$OUT" 'len(d["caches"])')" "$(awk 'NR>2' "$T_TMP/proc/slabinfo" | wc -l)"
run "$KMEMCTL" --replay "$T_TMP/export.kmw" --json history slab dentry active_objs 1h
expect_eq "replay history" "$(json_get "$OUT" 'len(d["points"]) > 0')" True

# status for people
run "$KMEMCTL" --socket "$SOCK" status
expect_match "kmemctl status" "$OUT" '^kmemwatchd [0-9.]+, protocol 1'
expect_match "kmemctl status lists sources" "$OUT" '^slabinfo +0\.2s'

# the socket is 0660 and not in root's group... when run as root with --user root there is no kmemwatch group:
expect_match "socket mode" "$(stat -c %a "$SOCK")" '^6[06]0$'

# a second daemon on the same socket is refused; the first keeps running
"$KMEMWATCHD" --socket "$SOCK" --state-dir "$T_TMP/other" --user root --config /dev/null \
    --proc-root "$T_TMP/proc" >"$T_TMP/second.log" 2>&1
expect_eq "second daemon on a live socket exits non-zero" "$?" 1
expect_match "... saying why" "$(cat "$T_TMP/second.log")" 'another kmemwatchd is running'
run $KWCLIENT "$SOCK" hello
expect_match "... and the first still answers" "$OUT" '"ok": *true'

stop_daemon "$DPID"
expect_eq "SIGTERM: socket removed" "$([ -e "$SOCK" ] && echo present || echo gone)" gone
expect_match "SIGTERM: logged" "$(cat "$DLOG")" 'stopping'
finish
