#!/bin/bash
# kmemwatchd on the live kernel: grow kernel memory on purpose and see it in
# vmalloc, kmalloc and history with the right sizes; privileges dropped;
# kill -9 then restart keeps history.
. tests/e2e/lib.sh
t_setup
if [ ! -r /proc/slabinfo ] || [ "$(id -u)" != 0 ]; then
    not_ok "live daemon tests need root"
    finish
fi
# a private unprivileged user for the privilege drop, the kmemwatch group,
# a member of it and a user who is not
getent group kmemwatch >/dev/null || groupadd --system kmemwatch
id kmwtest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin kmwtest
id kmwmember >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin -G kmemwatch kmwmember
id kmwother >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin kmwother
start_daemon live --interval 1 --user kmwtest || { not_ok "daemon starts on /proc" "$(cat "$DLOG")"; finish; }
ok "daemon starts on the live kernel"

st=/proc/$DPID/status
expect_eq "privileges dropped: runs as kmwtest" "$(awk '/^Uid:/{print $2, $3, $4}' "$st")" \
    "$(id -u kmwtest) $(id -u kmwtest) $(id -u kmwtest)"
expect_eq "privileges dropped: no capabilities" "$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/{if ($1!="CapBnd:") print $2}' "$st" | sort -u)" \
    "0000000000000000"
expect_eq "privileges dropped: no supplementary groups" "$(awk '/^Groups:/{print NF}' "$st")" 1
expect_eq "no new privileges" "$(awk '/^NoNewPrivs:/{print $2}' "$st")" 1
expect_eq "socket: mode 0660, owner root, group kmemwatch" "$(stat -c '%a %U %G' "$SOCK")" "660 root kmemwatch"
as() { setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups "${@:2}"; }
run as kmwmember "$KMEMCTL" --socket "$SOCK" --json meminfo
expect_eq "a member of group kmemwatch may query" "$RC $(json_get "$OUT" 'd["ok"]')" "0 True"
run as kmwother "$KMEMCTL" --socket "$SOCK" status
expect_eq "anyone else: exit 2" "$RC" 2
expect_eq "anyone else: EACCES from the kernel, said plainly" "$ERR" \
    "kmemctl: $SOCK: permission denied (not in group kmemwatch)"
sleep 1.5
run $KWCLIENT "$SOCK" hello
expect_eq "kept-open /proc files still read after the drop" \
    "$(json_get "$OUT" 'd["sources"]["slabinfo"]["samples"] >= 2 and d["sources"]["slabinfo"]["error"] is None and d["sources"]["vmallocinfo"]["error"] is None')" True

before_vm=$("$KMEMCTL" --socket "$SOCK" --json vmalloc)
before_km=$("$KMEMCTL" --socket "$SOCK" --json kmalloc)
# the workloads hold until the FIFO's writer (this script) closes it
mkfifo "$T_TMP/hold"
python3 tests/e2e/grow.py threads 1000 <"$T_TMP/hold" >"$T_TMP/g1.out" &
g1=$!
python3 tests/e2e/grow.py pipes 3000 <"$T_TMP/hold" >"$T_TMP/g2.out" &
g2=$!
exec {HOLD}>"$T_TMP/hold"
wait_for "workloads" 20 bash -c "grep -q ready '$T_TMP/g1.out' && grep -q ready '$T_TMP/g2.out'"
expect_eq "workloads hold 1000 threads and 3000 pipes" "$(cat "$T_TMP/g1.out" "$T_TMP/g2.out" | paste -sd' ')" "ready ready"
sleep 2.5
after_vm=$("$KMEMCTL" --socket "$SOCK" --json vmalloc)
after_km=$("$KMEMCTL" --socket "$SOCK" --json kmalloc)
kc() { json_get "$1" 'sum(c["areas"] for c in d["callers"] if c["caller"]=="kernel_clone"), sum(c["bytes"] for c in d["callers"] if c["caller"]=="kernel_clone")'; }
read -r a0 b0 <<<"$(kc "$before_vm" | tr -d '(),')"
read -r a1 b1 <<<"$(kc "$after_vm" | tr -d '(),')"
da=$((a1 - a0)); db=$((b1 - b0))
if [ "$da" -ge 900 ] && [ "$da" -le 1100 ]; then ok "vmalloc: kernel_clone gained $da areas for 1000 threads"; else not_ok "vmalloc: kernel_clone gained $da areas" ; fi
expect_eq "vmalloc: each new area is 20480 bytes" "$db" "$((da * 20480))"
# SLUB's counts are approximate (objects in per-CPU slabs count as active, a
# new pipe may reuse a free object): 80% of the pipes is the floor
cg() { json_get "$1" '[c["active_objs"] for c in d["classes"] if c["size"]==1024 and c["variant"]=="cg"][0]'; }
dk=$(( $(cg "$after_km") - $(cg "$before_km") ))
if [ "$dk" -ge 2400 ]; then ok "kmalloc: cg-1024 gained $dk active objects for 3000 pipes"; else not_ok "kmalloc: cg-1024 gained $dk active objects for 3000 pipes"; fi

run $KWCLIENT "$SOCK" "history vmalloc kernel_clone bytes 1m"
expect_eq "history: kernel_clone bytes rose by the same amount" \
    "$(json_get "$OUT" 'max(p[1] for p in d["points"]) - min(p[1] for p in d["points"]) >= '"$db")" True
run $KWCLIENT "$SOCK" "history kmalloc cg-1024 active_objs 1m"
expect_eq "history: kmalloc cg-1024 rose by as much" "$(json_get "$OUT" 'd["points"][-1][1] - d["points"][0][1] >= 2400')" True

exec {HOLD}>&-
wait "$g1" "$g2"

# kill -9 and restart: history written before the kill is still there
run $KWCLIENT "$SOCK" "history slab dentry active_objs 1h"
old=$OUT
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
start_daemon live --interval 1 --user kmwtest || { not_ok "restart after kill -9" "$(tail -5 "$DLOG")"; finish; }
expect_match "restart after kill -9: stale socket replaced" "$(cat "$DLOG")" 'replacing a stale socket'
run $KWCLIENT "$SOCK" "history slab dentry active_objs 1h"
expect_eq "restart after kill -9: every earlier point is still there" \
    "$(python3 -c 'import json,sys; a=json.loads(sys.argv[1])["points"]; b=json.loads(sys.argv[2])["points"]; print(len(a) > 3, set(map(tuple, a)) <= set(map(tuple, b)))' "$old" "$OUT")" "True True"
expect_no_match "restart: the ring was not moved aside" "$(cat "$DLOG")" 'corrupt|moved aside'
finish
