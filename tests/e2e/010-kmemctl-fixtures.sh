#!/bin/bash
# kmemctl on recorded /proc files: every command, every output format, the
# row options, and values cross-checked against the fixture files with awk.
. tests/e2e/lib.sh
IDLE=$FIX/idle

# --- slab -----------------------------------------------------------------
run "$KMEMCTL" --proc-root "$IDLE" --json slab
expect_eq "slab --json exits 0" "$RC" 0
n_file=$(awk 'NR>2' "$IDLE/slabinfo" | wc -l)
expect_eq "slab: one row per cache line" "$(json_get "$OUT" 'len(d["caches"])')" "$n_file"
expect_eq "slab: file order kept" "$(json_get "$OUT" 'd["caches"][0]["name"]')" "$(awk 'NR==3{print $1}' "$IDLE/slabinfo")"
want=$(awk '$1=="dentry"{print $2, $3, $4, $5, $6, $14, $15, $15*$6*4096, $2*$4}' "$IDLE/slabinfo")
got=$(json_get "$OUT" '" ".join(str(c[k]) for c in d["caches"] if c["name"]=="dentry" for k in ("active_objs","num_objs","objsize","objperslab","pagesperslab","active_slabs","num_slabs","bytes_total","bytes_active"))')
expect_eq "slab: dentry fields and derived bytes match the file" "$got" "$want"
expect_eq "slab: JSON keys are the documented ones" \
    "$(json_get "$OUT" '",".join(d["caches"][0].keys())')" \
    "name,active_objs,num_objs,objsize,objperslab,pagesperslab,active_slabs,num_slabs,bytes_total,bytes_active"

run "$KMEMCTL" --proc-root "$IDLE" slab
expect_match "slab table has a header" "$OUT" '^caches: [0-9]+ .*memory'
expect_match "slab table columns" "$OUT" 'NAME +ACTIVE +OBJS +USE +OBJSIZE'
first=$(awk 'NR>2{print $15*$6*4096, $1}' "$IDLE/slabinfo" | sort -k1,1nr -k2 | head -1 | awk '{print $2}')
expect_eq "slab table sorted by memory" "$(sed -n 4p <<<"$OUT" | awk '{print $1}')" "$first"

run "$KMEMCTL" --proc-root "$IDLE" --csv slab
expect_eq "slab csv header" "$(head -1 <<<"$OUT")" "name,active_objs,num_objs,objsize,objperslab,pagesperslab,num_slabs,active_slabs,bytes_total,bytes_active"
expect_eq "slab csv rows" "$(($(wc -l <<<"$OUT") - 1))" "$n_file"
expect_eq "slab csv keeps file order and raw units" "$(sed -n 2p <<<"$OUT")" \
    "$(awk 'NR==3{printf "%s,%s,%s,%s,%s,%s,%s,%s,%d,%d\n", $1,$2,$3,$4,$5,$6,$15,$14,$15*$6*4096,$2*$4}' "$IDLE/slabinfo")"

run "$KMEMCTL" --proc-root "$IDLE" --json --top 3 slab
top3=$(awk 'NR>2{print $15*$6*4096, $1}' "$IDLE/slabinfo" | sort -k1,1nr | head -3 | awk '{print $1}' | paste -sd,)
expect_eq "--top 3 keeps the 3 largest" "$(json_get "$OUT" '",".join(str(c["bytes_total"]) for c in d["caches"])')" "$top3"
run "$KMEMCTL" --proc-root "$IDLE" --json --match '^kmalloc-cg-' slab
expect_eq "--match filters by name" "$(json_get "$OUT" 'len(d["caches"])')" "$(grep -c '^kmalloc-cg-' "$IDLE/slabinfo")"
run "$KMEMCTL" --proc-root "$IDLE" --csv --sort n slab
expect_eq "--sort n (slabtop letter) sorts by name" "$(tail -n +2 <<<"$OUT" | cut -d, -f1 | LC_ALL=C sort -c && echo sorted)" sorted
run "$KMEMCTL" --proc-root "$IDLE" --csv --sort objsize --reverse slab
expect_eq "--sort objsize --reverse is smallest first" "$(tail -n +2 <<<"$OUT" | cut -d, -f4 | sort -n -c && echo sorted)" sorted
run "$KMEMCTL" --proc-root "$IDLE" --sort bogus slab
expect_eq "--sort of an unknown field fails with 2" "$RC" 2
expect_match "... and says why" "$ERR" "cannot sort by 'bogus'"
run "$KMEMCTL" --proc-root "$IDLE" --match '(' slab
expect_eq "a bad --match regex fails with 2" "$RC" 2

# --- kmalloc ----------------------------------------------------------------
run "$KMEMCTL" --proc-root "$IDLE" --json kmalloc
expect_eq "kmalloc: one row per kmalloc cache" "$(json_get "$OUT" 'len(d["classes"])')" \
    "$(grep -cE '^(kmalloc|kmalloc-cg|kmalloc-rcl|dma-kmalloc)-[0-9]+k? ' "$IDLE/slabinfo")"
expect_eq "kmalloc: cg-1k is size 1024 variant cg" \
    "$(json_get "$OUT" '[(c["size"], c["variant"], c["num_objs"]) for c in d["classes"] if c["cache"]=="kmalloc-cg-1k"][0]')" \
    "(1024, 'cg', $(awk '$1=="kmalloc-cg-1k"{print $3}' "$IDLE/slabinfo"))"
expect_eq "kmalloc: kmalloc_buckets is not a class" "$(json_get "$OUT" 'sum(1 for c in d["classes"] if "bucket" in c["cache"])')" 0
run "$KMEMCTL" --proc-root "$FIX/procfs" --json kmalloc
expect_eq "kmalloc: size from the name, objsize from the file (slub_debug)" \
    "$(json_get "$OUT" '[(c["size"], c["objsize"]) for c in d["classes"] if c["cache"]=="kmalloc-8"][0]')" "(8, 344)"
run "$KMEMCTL" --proc-root "$IDLE" kmalloc
expect_match "kmalloc table" "$OUT" '^ *SIZE +VARIANT +CACHE'

# --- vmalloc ----------------------------------------------------------------
run "$KMEMCTL" --proc-root "$IDLE" --json vmalloc
expect_eq "vmalloc --json exits 0" "$RC" 0
expect_eq "vmalloc: total areas = lines that are not unpurged" "$(json_get "$OUT" 'd["total"]["areas"]')" \
    "$(grep -vc 'unpurged vm_area' "$IDLE/vmallocinfo")"
expect_eq "vmalloc: total bytes = sum of sizes" "$(json_get "$OUT" 'd["total"]["bytes"]')" \
    "$(awk '!/unpurged vm_area/{s+=$2} END{printf "%d", s}' "$IDLE/vmallocinfo")"
expect_eq "vmalloc: kernel_clone areas and bytes" \
    "$(json_get "$OUT" 'sum(c["areas"] for c in d["callers"] if c["caller"]=="kernel_clone"), sum(c["bytes"] for c in d["callers"] if c["caller"]=="kernel_clone")')" \
    "$(awk '$3 ~ /^kernel_clone\+/{n++; s+=$2} END{printf "(%d, %d)", n, s}' "$IDLE/vmallocinfo")"
expect_eq "vmalloc: JSON keys" "$(json_get "$OUT" '",".join(d.keys()) + "|" + ",".join(d["callers"][0].keys())')" \
    "callers,types,unpurged,total|caller,module,type,flags,areas,bytes,pages,nodes"
for fmt in --json --csv ""; do
    run "$KMEMCTL" --proc-root "$IDLE" $fmt vmalloc
    expect_no_match "vmalloc ${fmt:-table}: no kernel address in the output" "$OUT" '0x[0-9a-f]{8,}'
done
run "$KMEMCTL" --proc-root "$FIX/synthetic-vmalloc" --json vmalloc
expect_eq "vmalloc: module, flags, nodes, unknown caller, unpurged" \
    "$(json_get "$OUT" '[(c["module"], c["flags"], c["nodes"]) for c in d["callers"] if c["caller"]=="xfs_buf_get_map"][0], sorted(c["type"] for c in d["callers"] if c["caller"]=="unknown"), d["unpurged"]')" \
    "(('xfs', ['vpages'], {'0': 64}), ['vm_map_ram', 'vmalloc'], {'areas': 1, 'bytes': 20480})"
run "$KMEMCTL" --proc-root "$IDLE" vmalloc
expect_match "vmalloc table shows unpurged apart" "$OUT" '^unpurged .*not a leak'
run "$KMEMCTL" --proc-root "$IDLE" --json --top 1 --sort areas vmalloc
expect_eq "vmalloc --sort areas --top 1" "$(json_get "$OUT" 'd["callers"][0]["areas"]')" \
    "$(awk '!/unpurged vm_area|vm_map_ram/{c=$3; sub(/\+.*/,"",c); if ($3 ~ /^0x/) c="unknown"; t="other"; for(i=4;i<=NF;i++) if ($i ~ /^(ioremap|vmalloc|vmap|sparse|dma-coherent)$/ && t=="other") t=$i; n[c" "t]++} END{for(k in n) print n[k]}' "$IDLE/vmallocinfo" | sort -n | tail -1)"

# --- buddy ------------------------------------------------------------------
run "$KMEMCTL" --proc-root "$IDLE" --json buddy
expect_eq "buddy: zones in file order" "$(json_get "$OUT" '[(z["node"], z["zone"], len(z["free"])) for z in d["zones"]]')" \
    "[(0, 'DMA', 11), (0, 'DMA32', 11), (0, 'Normal', 11)]"
expect_eq "buddy: free_pages" "$(json_get "$OUT" '[z["free_pages"] for z in d["zones"]]')" \
    "$(awk '{s=0; for(i=5;i<=NF;i++) s+=$i*2^(i-5); printf "%s%d", (NR>1?", ":"["), s} END{print "]"}' "$IDLE/buddyinfo")"
expect_eq "buddy: unusable index of order 0 is 0, order 10 is a fraction" \
    "$(json_get "$OUT" '[z["unusable_index"][0] for z in d["zones"]], all(0 <= z["unusable_index"][10] <= 1 for z in d["zones"])')" \
    "([0.0, 0.0, 0.0], True)"
run "$KMEMCTL" --proc-root "$FIX/synthetic-numa" --csv buddy
expect_eq "buddy csv: 2 nodes, Movable zone" "$(cut -d, -f1,2 <<<"$OUT" | tail -n +2 | paste -sd' ')" \
    "0,DMA 0,DMA32 0,Normal 1,Normal 1,Movable"
run "$KMEMCTL" --proc-root "$IDLE" buddy
expect_match "buddy table shows the unusable index" "$OUT" 'Unusable free space index'

# --- meminfo ----------------------------------------------------------------
run "$KMEMCTL" --proc-root "$IDLE" --json meminfo
expect_eq "meminfo: SUnreclaim in bytes" "$(json_get "$OUT" 'd["meminfo"]["SUnreclaim"]')" \
    "$(( $(awk '$1=="SUnreclaim:"{print $2}' "$IDLE/meminfo") * 1024 ))"
expect_eq "meminfo: the ten keys" "$(json_get "$OUT" 'len(d["meminfo"])')" 10
run "$KMEMCTL" --proc-root "$IDLE" --csv meminfo
expect_match "meminfo csv" "$OUT" '^SUnreclaim,[0-9]+$'

finish
