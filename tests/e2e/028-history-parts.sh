#!/bin/bash
# Long history replies (daemon/cmd.c, made in parts of 16384 points): exact
# against a replay of the same ring, whole before the next reply, a reader
# that leaves mid-reply, replies given again from the cache only while they
# are still right, and the daemon's memory while slow clients each hold a
# day of 1-second points.
. tests/e2e/lib.sh
# as in 024: ASan's quarantine would read as RSS growth
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8
t_setup
cp -r "$FIX/idle" "$T_TMP/proc"
mkdir -p "$T_TMP/hp.state"
# a day of an idle machine (86400 one-second records, this machine's caches), then the daemon on it
run "$BUILD/bench/bench_ring" fill "$T_TMP/hp.state" 1
expect_match "a day of history written" "$OUT" 'samples 86400'
cp "$T_TMP/hp.state/ring.kmw" "$T_TMP/day.kmw"
start_daemon hp --proc-root "$T_TMP/proc" || { not_ok "daemon starts" "$(cat "$DLOG")"; finish; }

# the day in parts, against the same ring read directly
python3 - "$SOCK" >"$T_TMP/day.json" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sys.argv[1])
s.sendall(b"history slab dentry active_objs 1d\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk: break
    buf += chunk
sys.stdout.write(buf.decode())
PY
"$KMEMCTL" --replay "$T_TMP/day.kmw" --json history slab dentry active_objs 1d >"$T_TMP/replay.json"
python3 - "$T_TMP/day.json" "$T_TMP/replay.json" >"$T_TMP/cmp.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
dp = [(round(t, 3), v) for t, v in d["points"]]
rp = [(round(t, 3), v) for t, v in r["points"]]
# the daemon's window ends later: compare where both windows are
both_d = [p for p in dp if p[0] <= rp[-1][0]]
both_r = [p for p in rp if p[0] >= dp[0][0]]
print(d["ok"], d["tier"], len(dp) > 3 * 16384, both_d == both_r,
      all(a[0] < b[0] for a, b in zip(dp, dp[1:])))
PY
expect_eq "a day in parts: ok, full tier, many parts, the replay's points, oldest first" \
    "$(cat "$T_TMP/cmp.out")" "True full True True True"

# pipelined: the next reply comes after the whole of a reply in parts; a reader leaving mid-reply
python3 - "$SOCK" >"$T_TMP/pipe.out" 2>&1 <<'PY'
import json, socket, sys
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(path); return s
s = conn()
s.sendall(b"history slab dentry active_objs 1d\nhello\nhistory meminfo - MemFree 1d\n")
buf = b""
while buf.count(b"\n") < 3:
    chunk = s.recv(1 << 20)
    if not chunk: break
    buf += chunk
a, b, c = [json.loads(x) for x in buf.split(b"\n")[:3]]
res = [len(a["points"]) > 3 * 16384, b.get("protocol") == 1, len(c["points"]) > 3 * 16384]
for _ in range(20):
    x = conn(); x.sendall(b"history slab dentry active_objs 1d\n"); x.recv(100000); x.close()
x = conn(); x.sendall(b"hello\n"); res.append(b'"protocol":1' in x.recv(65536))
print(*res)
PY
expect_eq "pipelined after a reply in parts: in order, whole; readers leaving mid-reply" \
    "$(tail -1 "$T_TMP/pipe.out")" "True True True True"

# memory: 30 clients ask for a day each and read nothing for a while (whole replies would be 70 MB)
rss() { awk '/^RssAnon:/ {print $2}' "/proc/$DPID/status"; }
rss0=$(rss)
python3 - "$SOCK" "$DPID" >"$T_TMP/slow.out" 2>&1 <<'PY'
import json, socket, sys, time
path, pid = sys.argv[1], sys.argv[2]
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("RssAnon:"): return int(l.split()[1])
cs = []
for _ in range(30):
    s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(path)
    s.sendall(b"history slab dentry active_objs 1d\n"); cs.append(s)
peak = 0
for _ in range(15):
    time.sleep(0.1); peak = max(peak, rss())
ns = []
for s in cs:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk: break
        buf += chunk
        peak = max(peak, rss())
    ns.append(len(json.loads(buf)["points"]))
# asked over a second or two: the windows end a sample or two apart
print(peak, min(ns) > 3 * 16384 and max(ns) - min(ns) <= 3)
PY
read -r peak whole <<<"$(tail -1 "$T_TMP/slow.out")"
expect_eq "30 slow readers of a day: every reply whole" "$whole" "True"
# one part queued per client (~0.4 MB), not the 2.3 MB of a whole reply; ASan's shadow adds an eighth
slack=32768
case $BUILD in *asan*) slack=49152 ;; esac
if [ -n "$peak" ] && [ "$peak" -le $((rss0 + slack)) ]; then
    ok "RssAnon while 30 clients hold a day each: $rss0 kB -> at most $peak kB"
else
    not_ok "RssAnon while 30 clients hold a day each: $rss0 kB -> $peak kB" "$(cat "$T_TMP/slow.out")"
fi
run $KWCLIENT "$SOCK" hello
expect_match "daemon still answering" "$OUT" '"ok": *true'

# the cache: a window of 3 s asked again and again of a daemon sampling every 2 s moves with the
# clock (its oldest point leaves while no sample comes) and sees each new sample
start_daemon hc --proc-root "$T_TMP/proc" --interval 2 || { not_ok "daemon starts" "$(cat "$DLOG")"; finish; }
python3 - "$SOCK" >"$T_TMP/cache.out" 2>&1 <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
f = s.makefile("rb")
inside, counts, newest, end = True, set(), set(), time.time() + 7
while time.time() < end:
    t0 = time.time()
    s.sendall(b"history slab dentry active_objs 3\n")
    p = json.loads(f.readline())["points"]
    inside = inside and all(t >= t0 - 3.001 for t, v in p)
    counts.add(len(p))
    if p: newest.add(p[-1][0])
    time.sleep(0.01)
# no point older than the window when asked; one and two points in it by turns; new samples seen
print(inside, counts >= {1, 2}, len(newest) >= 3)
PY
expect_eq "repeated short windows: no stale point, the window moves between samples, new samples" \
    "$(tail -1 "$T_TMP/cache.out")" "True True True"
# ~700 requests in 7 s over 4 samples: most of them must have come from the cache
run $KWCLIENT "$SOCK" hello
hits=$(json_get "$OUT" "d['history_cache']['hits']")
misses=$(json_get "$OUT" "d['history_cache']['misses']")
if [ -n "$hits" ] && [ -n "$misses" ] && [ "$hits" -gt $((misses * 5)) ]; then
    ok "repeated short windows answered from the cache ($hits hits, $misses walks)"
else
    not_ok "repeated short windows answered from the cache" "$OUT"
fi
finish
