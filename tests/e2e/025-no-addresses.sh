#!/bin/bash
# No output of any command, metric or log line contains a kernel address:
# every address printed in the live /proc/vmallocinfo is searched for in
# everything kmemctl, the daemon and kmemtop print.
. tests/e2e/lib.sh
t_setup
if [ ! -r /proc/vmallocinfo ]; then not_ok "needs root"; finish; fi
start_daemon na --interval 0.5 || { not_ok "daemon starts" "$(cat "$DLOG")"; finish; }
sleep 1.2
out=$T_TMP/all.out
{
    for c in slab kmalloc vmalloc buddy meminfo; do
        for f in "" --json --csv; do "$KMEMCTL" --direct $f $c; "$KMEMCTL" --socket "$SOCK" $f $c; done
    done
    "$KMEMCTL" --direct metrics; "$KMEMCTL" --socket "$SOCK" metrics; "$KMEMCTL" --socket "$SOCK" status
    "$KMEMCTL" --socket "$SOCK" --json history vmalloc total bytes 1m
    $KWCLIENT "$SOCK" --watch 2 slab kmalloc vmalloc buddy meminfo
    "$KMEMTOP" --batch -n 1 --screen caches; "$KMEMTOP" --batch -n 1 --screen kmalloc
    "$KMEMTOP" --batch -n 1 --screen overview
    cat "$DLOG"
} >"$out" 2>&1
# the kernel's own words for the areas, as root sees them (hashed or raw)
addrs=$(awk '{split($1, a, "-"); print a[1]; print a[2]}' /proc/vmallocinfo | sed 's/^0x//' | sort -u)
hits=$(grep -oE '[0-9a-f]{12,16}' "$out" | sort -u | comm -12 - <(echo "$addrs") | head -5)
expect_eq "no vmallocinfo address appears in any output ($(wc -c <"$out") bytes searched)" "$hits" ""
expect_no_match "no 0xffff... kernel pointer in any output" "$(cat "$out")" '0xffff[0-9a-f]{8}|ffffffff[0-9a-f]{8}'
expect_no_match "no phys= address leaks" "$(cat "$out")" 'phys='
finish
