#!/bin/bash
# kmemctl against this machine's live kernel, checked against /proc read in
# the same test.  Needs root (CI runs as root) for slabinfo and vmallocinfo.
. tests/e2e/lib.sh

if [ ! -r /proc/slabinfo ]; then
    not_ok "live tests need root: /proc/slabinfo is not readable"
    finish
fi

run "$KMEMCTL" --json slab
snap=$(cat /proc/slabinfo)
expect_eq "live slab: exit 0" "$RC" 0
expect_eq "live slab: same cache count as /proc/slabinfo" "$(json_get "$OUT" 'len(d["caches"])')" \
    "$(awk 'NR>2' <<<"$snap" | wc -l)"
# Static per-cache fields cannot change between two reads: compare all of them.
expect_eq "live slab: names, objsize, objperslab, pagesperslab match for every cache" \
    "$(json_get "$OUT" '"\n".join("%s %d %d %d" % (c["name"], c["objsize"], c["objperslab"], c["pagesperslab"]) for c in d["caches"])')" \
    "$(awk 'NR>2{n[$1]++; name=(n[$1]>1)?$1"#"n[$1]:$1; print name, $4, $5, $6}' <<<"$snap")"
# Counts move; a busy kernel moves them a little.  Stable caches do not.
for cache in kmem_cache kmem_cache_node; do
    a=$(json_get "$OUT" "[c['num_objs'] for c in d['caches'] if c['name']=='$cache'][0]")
    b=$(awk -v c=$cache '$1==c{print $3}' <<<"$snap")
    expect_eq "live slab: $cache num_objs matches" "$a" "$b"
done

run "$KMEMCTL" --json kmalloc
expect_eq "live kmalloc: one row per kmalloc size class cache" "$(json_get "$OUT" 'len([c for c in d["classes"] if c["variant"] != "rnd"])')" \
    "$(grep -cE '^(kmalloc|kmalloc-cg|kmalloc-rcl|dma-kmalloc)-[0-9]+k? ' /proc/slabinfo)"

run "$KMEMCTL" --json vmalloc
areas=$(grep -vc 'unpurged vm_area' /proc/vmallocinfo)
got=$(json_get "$OUT" 'd["total"]["areas"]')
expect_eq "live vmalloc: exit 0" "$RC" 0
if [ $((got - areas)) -le 50 ] && [ $((areas - got)) -le 50 ]; then
    ok "live vmalloc: total areas ($got) close to /proc/vmallocinfo ($areas)"
else
    not_ok "live vmalloc: total areas ($got) far from /proc/vmallocinfo ($areas)"
fi
for fmt in --json --csv ""; do
    run "$KMEMCTL" $fmt vmalloc
    expect_no_match "live vmalloc ${fmt:-table}: no kernel address in the output" "$OUT" '0x[0-9a-f]{6,}|ffff[0-9a-f]{8}'
done

run "$KMEMCTL" --json buddy
expect_eq "live buddy: zones match" "$(json_get "$OUT" '" ".join("%d:%s" % (z["node"], z["zone"]) for z in d["zones"])')" \
    "$(awk '{sub(",","",$2); printf "%s%s:%s", (NR>1?" ":""), $2, $4} END{print ""}' /proc/buddyinfo)"

run "$KMEMCTL" --json meminfo
expect_eq "live meminfo: MemTotal matches" "$(json_get "$OUT" 'd["meminfo"]["MemTotal"]')" \
    "$(( $(awk '$1=="MemTotal:"{print $2}' /proc/meminfo) * 1024 ))"

finish
