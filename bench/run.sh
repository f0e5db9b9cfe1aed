#!/bin/bash
# kmemwatch benchmarks (make bench).  Needs root (/proc/slabinfo, vmallocinfo).
#
# Every figure is printed as "key value" while it is measured, kept in
# $OUT/results.txt, and summarised in one table at the end with the target
# and whether it is met.  The machine is shared and noisy: every figure is a
# median of several runs, and the two sides of a comparison are measured
# interleaved.  docs/PERFORMANCE.md explains each figure and records a run.
#
# BUILD (default build) holds the binaries; BENCH_QUICK=1 shortens every
# phase (a smoke run, figures not to be quoted); BENCH_ONLY="1 3" runs only
# those sections (1 sampling, 2 parsers, 3 tools, 4 queries, 5 memory,
# 6 viewer: needs tmux); BENCH_OUT=DIR keeps the results there.
# BENCH_VIEWER_BEFORE=PATH runs that kmemtop (an older build) beside ours in
# the idle runs of section 6, on the same daemon at the same time: the
# daemon's cost moves with the host several times over within an hour, so
# only a side-by-side run compares two builds.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
ONLY=${BENCH_ONLY:-1 2 3 4 5 6}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/kmw-bench.XXXXXX)}
mkdir -p "$OUT"
RES=$OUT/results.txt
: >"$RES"
PIDS=()

if [ "$(id -u)" != 0 ]; then
    echo "bench/run.sh: needs root (/proc/slabinfo and /proc/vmallocinfo are root-only)" >&2
    exit 2
fi

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "${TMUX_SOCK:-}" ] && tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
    exec 7>&- 2>/dev/null
}
trap cleanup EXIT

q() { [ "$QUICK" = 1 ] && echo "$1" || echo "$2"; }   # q QUICK_VALUE FULL_VALUE
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
say() { echo "== $*"; }
rec() { echo "$1 $2" | tee -a "$RES"; }               # rec KEY VALUE
run_rec() { "$@" | tee -a "$RES"; }                  # a bench binary's own key-value lines
get() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$RES"; }
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "") print "-"; else printf f, v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.3f", a / b }'; }

# CPU (user + system, ms) of one run of each of two commands: batches of N
# runs, the two commands alternating batch by batch; median over the batches.
cpu_pair() {   # N "CMD A" "CMD B"  -> "A_ms B_ms"
    python3 - "$@" <<'EOF'
import resource, shlex, statistics, subprocess, sys
n = int(sys.argv[1]); cmds = [shlex.split(c) for c in sys.argv[2:4]]
res = [[], []]
for b in range(7):
    for i, cmd in enumerate(cmds):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        for _ in range(n):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        res[i].append(((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) / n * 1000)
print("%.3f %.3f" % (statistics.median(res[0]), statistics.median(res[1])))
EOF
}

# utime + stime of a process, in ms
proc_cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.1f\n", ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }

start_daemon() {   # DIR [extra options]: a daemon on DIR/s.sock with its ring in DIR/state
    local dir=$1 i
    shift
    mkdir -p "$dir/state"
    "$BUILD/kmemwatchd" --socket "$dir/s.sock" --state-dir "$dir/state" --user root \
        --config /dev/null "$@" >>"$dir/daemon.log" 2>&1 &
    DPID=$!
    PIDS+=("$DPID")
    for i in $(seq 200); do
        if [ -S "$dir/s.sock" ] && "$BUILD/kmemctl" --socket "$dir/s.sock" status >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench/run.sh: the daemon did not start:" >&2
    cat "$dir/daemon.log" >&2
    return 1
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

echo "kmemwatch benchmarks: $(uname -r), $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "results in $OUT"
rec machine.kernel "$(uname -r)"
rec machine.cpus "$(nproc)"

# ---- 1. sampling overhead against the floor of reading the files --------------------------
if want 1; then
    say "1. sampling overhead: CPU per sample set (read + parse + ring_append) / CPU of the reads alone"
    run_rec "$BUILD/bench/bench_sample" --label sample.loop --iters "$(q 20 200)" --runs "$(q 3 9)" \
        --breakdown "$(q 10 100)"
    run_rec "$BUILD/bench/bench_sample" --label sample.tick --tick-seconds "$(q 5 40)"
    say "1b. the same with 5000 extra threads (5000 more vmalloc areas: kernel stacks)"
    mkfifo "$OUT/grow.in"
    python3 tests/e2e/grow.py threads 5000 <"$OUT/grow.in" >"$OUT/grow.out" 2>&1 &
    GPID=$!
    PIDS+=("$GPID")
    exec 7>"$OUT/grow.in"
    for _ in $(seq 300); do grep -q ready "$OUT/grow.out" 2>/dev/null && break; sleep 0.1; done
    rec sample5k.vmalloc_lines "$(wc -l </proc/vmallocinfo)"
    run_rec "$BUILD/bench/bench_sample" --label sample5k.loop --iters "$(q 10 100)" --runs "$(q 3 9)" \
        --breakdown "$(q 5 50)"
    run_rec "$BUILD/bench/bench_sample" --label sample5k.tick --tick-seconds "$(q 5 30)"
    exec 7>&-
    wait "$GPID" 2>/dev/null
fi

# ---- 2. parsers against sscanf-per-line reference parsers ---------------------------------
if want 2; then
    say "2. parsers: ns per line, ours vs a sscanf-per-line parser (procps slabtop style)"
    run_rec "$BUILD/bench/bench_parse" --runs "$(q 3 9)"
fi

# ---- 3. against the tools people run today ------------------------------------------------
if want 3; then
    say "3. whole-process CPU: kmemctl slab vs slabtop -o"
    read -r a b <<<"$(cpu_pair "$(q 5 40)" "$BUILD/kmemctl --direct slab" "slabtop -o")"
    rec tools.kmemctl_slab_ms "$a"
    rec tools.slabtop_ms "$b"

    say "3b. one metrics scrape: kmemctl --direct metrics vs prometheus-node-exporter (slabinfo, buddyinfo, meminfo)"
    NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
    if [ -z "$NE" ]; then
        echo "prometheus-node-exporter is not installed (make deps installs it)" >&2
    else
        port=$((20000 + RANDOM % 20000))
        "$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
            --collector.slabinfo --collector.buddyinfo --collector.meminfo >"$OUT/ne.log" 2>&1 &
        NPID=$!
        PIDS+=("$NPID")
        for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
        n=$(q 20 200)
        for _ in $(seq 20); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null; done   # warm up
        # its CPU per scrape: /proc/PID/stat over n scrapes, five times; the median
        vals=()
        for _ in 1 2 3 4 5; do
            c0=$(proc_cpu_ms "$NPID")
            python3 - "$port" "$n" <<'EOF'
import sys, urllib.request
for _ in range(int(sys.argv[2])):
    urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read()
EOF
            c1=$(proc_cpu_ms "$NPID")
            vals+=("$(awk -v a="$c0" -v b="$c1" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / n }')")
        done
        rec tools.node_exporter_scrape_ms "$(printf '%s\n' "${vals[@]}" | sort -g | sed -n 3p)"
        rec tools.node_exporter_scrape_bytes "$(curl -sf "http://127.0.0.1:$port/metrics" | wc -c)"
        stop_pid "$NPID"
        read -r a _ <<<"$(cpu_pair "$(q 5 40)" "$BUILD/kmemctl --direct metrics" "true")"
        rec tools.kmemctl_metrics_ms "$a"
        rec tools.kmemctl_metrics_bytes "$("$BUILD/kmemctl" --direct metrics | wc -c)"
    fi
fi

# ---- 5. memory (before 4: the query daemon runs on the week-old ring made here) -----------
WEEK=$OUT/week
if want 5 || want 4; then
    say "5. memory: ring bytes per sample, a simulated week, daemon RSS"
    mkdir -p "$WEEK/state"
    run_rec "$BUILD/bench/bench_ring" --label ring.week fill "$WEEK/state" "$(q 0.2 7)"
    "$BUILD/kmemctl" import tests/fixtures/growth-trace "$OUT/trace.kmw" >/dev/null
    run_rec "$BUILD/bench/bench_ring" --label ring.trace stats "$OUT/trace.kmw"
    start_daemon "$WEEK" || exit 1
    QPID=$DPID
    sleep "$(q 2 10)"
    rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$QPID/status"; }
    # sampling on a week-old ring, no client yet
    rec daemon.week.rss_anon_kib "$(rss RssAnon)"
    rec daemon.week.rss_file_kib "$(rss RssFile)"
    rec daemon.week.ring_file_bytes "$(stat -c %s "$WEEK/state/ring.kmw")"
    # then as clients use it: an hour of one series, a day, the whole week (604800 points);
    # the highest RssAnon while the reply is made and sent, polled every 10 ms, and after it
    for w in 1h 1d 7d; do
        "$BUILD/kmemctl" --socket "$WEEK/s.sock" history slab dentry active_objs "$w" >/dev/null &
        cpid=$!
        peak=0
        while kill -0 "$cpid" 2>/dev/null; do
            v=$(rss RssAnon)
            [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
            sleep 0.01
        done
        wait "$cpid"
        rec "daemon.week.rss_anon_peak_${w}_kib" "$peak"
        rec "daemon.week.rss_anon_after_${w}_kib" "$(rss RssAnon)"
    done
fi

# ---- 4. queries against a daemon -----------------------------------------------------------
if want 4; then
    say "4. queries: latency with 1, 10, 100 clients; throughput on one core"
    secs=$(q 2 5)
    # history: every client the same request (a dashboard; the daemon's reply cache answers
    # all but one per sample), and requests no cache answers (windows 3600 .. 3663 s in turn)
    reqs=(slab "history slab dentry active_objs 3600" "history slab dentry active_objs %u")
    keys=(slab history history_nocache)
    load() {   # KEY REQUEST CLIENTS: one loadgen run; prints its line
        local vary=()
        [ "$1" = history_nocache ] && vary=(--vary 3600:64)
        taskset -c 1 "$BUILD/bench/loadgen" --socket "$WEEK/s.sock" --clients "$3" \
            --seconds "$secs" --request "$2" "${vary[@]}" 2>&1 | tail -1
    }
    qval() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
    for i in 0 1 2; do
        for c in 1 10 100; do
            c0=$(proc_cpu_ms "$QPID")
            line=$(load "${keys[$i]}" "${reqs[$i]}" "$c")
            c1=$(proc_cpu_ms "$QPID")
            echo "# ${reqs[$i]}, $c clients: $line"
            for f in qps p50_ms p99_ms failed; do
                rec "query.${keys[$i]}.c$c.$f" "$(qval "$f" "$line")"
            done
            # the daemon's CPU per reply (utime + stime over the run; it also samples meanwhile)
            [ "$c" = 1 ] && rec "query.${keys[$i]}.c1.cpu_ms_per_reply" \
                "$(awk -v a="$c0" -v b="$c1" -v n="$(qval queries "$line")" \
                    'BEGIN { if (n > 0) printf "%.3f", (b - a) / n }')"
        done
    done
    # one core: the daemon on CPU 0, the clients on CPU 1
    taskset -pc 0 "$QPID" >/dev/null
    for t in $(ls "/proc/$QPID/task"); do taskset -pc 0 "$t" >/dev/null 2>&1; done
    for i in 0 1 2; do
        line=$(load "${keys[$i]}" "${reqs[$i]}" 10)
        echo "# one core, ${reqs[$i]}: $line"
        rec "query.${keys[$i]}.onecore.qps" "$(qval qps "$line")"
    done
    rec daemon.after_load.rss_anon_kib "$(awk '/^RssAnon:/ {print $2}' "/proc/$QPID/status")"
fi
[ -n "${QPID:-}" ] && stop_pid "$QPID"

# ---- 6. the viewer -------------------------------------------------------------------------
# CPU of a process in ms: the scheduler's run time of all its threads (schedstat, in ns: the
# 10 ms ticks of utime + stime cannot resolve a fraction of a millisecond a second), else
# utime + stime
proc_run_ms() {
    if [ -r "/proc/$1/schedstat" ]; then
        cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.3f\n", s / 1e6 }'
    else
        proc_cpu_ms "$1"
    fi
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# viewer_idle LABEL SOCKET SECS RUNS: kmemtop on the daemon $DPID (at SOCKET) in a 200x60 tmux
# session at the default 1 s refresh.  Each run a new kmemtop, 5 s to settle, then SECS seconds
# of both processes' CPU; medians of the runs.
viewer_idle() {
    local label=$1 sock=$2 secs=$3 runs=$4 before=${BENCH_VIEWER_BEFORE:-} r kpid bpid k0 d0 b0 k1 d1 b1
    local ks=() ds=() rs=() bs=()
    for r in $(seq "$runs"); do
        TMUX_SOCK=kmw-bench-$$-$label-$r
        tmux -L "$TMUX_SOCK" new-session -d -s b -x 200 -y 60 "$BUILD/kmemtop --socket $sock"
        [ -n "$before" ] && tmux -L "$TMUX_SOCK" new-session -d -s o -x 200 -y 60 "$before --socket $sock"
        sleep 5
        kpid=$(pgrep -f -n "^$BUILD/kmemtop --socket $sock\$" || true)
        bpid=
        [ -n "$before" ] && bpid=$(pgrep -f -n "^$before --socket $sock\$" || true)
        if [ -z "$kpid" ] || { [ -n "$before" ] && [ -z "$bpid" ]; }; then
            echo "bench/run.sh: kmemtop did not start on $sock" >&2
            tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
            TMUX_SOCK=
            return 1
        fi
        k0=$(proc_run_ms "$kpid")
        d0=$(proc_run_ms "$DPID")
        [ -n "$bpid" ] && b0=$(proc_run_ms "$bpid")
        sleep "$secs"
        k1=$(proc_run_ms "$kpid")
        d1=$(proc_run_ms "$DPID")
        [ -n "$bpid" ] && b1=$(proc_run_ms "$bpid")
        tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
        TMUX_SOCK=
        ks+=("$(awk -v a="$k0" -v b="$k1" -v s="$secs" 'BEGIN { printf "%.3f", (b - a) / s }')")
        ds+=("$(awk -v a="$d0" -v b="$d1" -v s="$secs" 'BEGIN { printf "%.3f", (b - a) / s }')")
        rs+=("$(awk -v k="${ks[-1]}" -v d="${ds[-1]}" 'BEGIN { printf "%.3f", (d > 0 ? k / d : 0) }')")
        echo "# $label run $r: kmemtop ${ks[-1]} ms/s, daemon ${ds[-1]} ms/s, ratio ${rs[-1]}"
        if [ -n "$bpid" ]; then
            bs+=("$(awk -v a="$b0" -v b="$b1" -v s="$secs" 'BEGIN { printf "%.3f", (b - a) / s }')")
            echo "# $label run $r: beside it $before ${bs[-1]} ms/s"
        fi
    done
    rec "viewer.$label.kmemtop_ms_per_s" "$(printf '%s\n' "${ks[@]}" | median)"
    rec "viewer.$label.daemon_ms_per_s" "$(printf '%s\n' "${ds[@]}" | median)"
    rec "viewer.$label.ratio" "$(printf '%s\n' "${rs[@]}" | median)"
    [ ${#bs[@]} -gt 0 ] && rec "viewer.$label.before_ms_per_s" "$(printf '%s\n' "${bs[@]}" | median)"
    return 0
}

if want 6; then
    say "6. kmemtop: CPU per frame at 200x60, idle CPU at a 1 s refresh"
    # per frame, per screen, no sampling: kmemtop's modules on the growth trace, a real pty
    [ -f "$OUT/trace.kmw" ] || "$BUILD/kmemctl" import tests/fixtures/growth-trace "$OUT/trace.kmw" >/dev/null
    run_rec "$BUILD/bench/bench_frame" --label viewer.frame --frames "$(q 10 50)" --runs "$(q 3 9)" \
        "$OUT/trace.kmw"

    say "6b. kmemtop on a daemon, idle at a 1 s refresh, against the daemon's own CPU"
    secs=$(q 10 60)
    # a daemon started now: for its first 10 minutes every sparkline grows a column a second
    mkdir -p "$OUT/v-fresh"
    start_daemon "$OUT/v-fresh" || exit 1
    sleep 2
    viewer_idle fresh "$OUT/v-fresh/s.sock" "$secs" "$(q 1 3)"
    stop_pid "$DPID"
    # a daemon whose ring already holds half an hour (bench_ring fill: simulated idle seconds
    # up to now): the 10-minute window is full, as on a machine where the daemon has been
    # running.  That daemon also judges growth over those 10 minutes every 10 s, which costs
    # it several times its sampling: kmemtop is compared with the fresh daemon's CPU (sampling).
    mkdir -p "$OUT/v-full/state"
    "$BUILD/bench/bench_ring" --label viewer.fill fill "$OUT/v-full/state" 0.02 >/dev/null
    start_daemon "$OUT/v-full" || exit 1
    sleep 2
    viewer_idle full "$OUT/v-full/s.sock" "$(q 10 30)" "$(q 1 3)"
    stop_pid "$DPID"
    # kmemtop's leak-suspect judgement (10 min, again a minute later) on that ring,
    # from the keyframe before each window and from the checkpoint the one before kept
    run_rec "$BUILD/bench/bench_ring" --label viewer.judge judge "$OUT/v-full/state/ring.kmw" 600 60
    rec viewer.full.ratio_to_sampling "$(ratio "$(get viewer.full.kmemtop_ms_per_s)" "$(get viewer.fresh.daemon_ms_per_s)")"

    say "6c. kmemtop --direct (it samples /proc itself): CPU per frame, idle CPU"
    n=$(q 3 21)
    # frames come one per sample: -d 0.5 is the shortest interval; N frames minus one frame
    read -r a b <<<"$(cpu_pair 1 "$BUILD/kmemtop --direct --batch -n $n -d 0.5 --width 200 --height 60" \
        "$BUILD/kmemtop --direct --batch -n 1 -d 0.5 --width 200 --height 60")"
    rec viewer.frame_ms "$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.3f", (a - b) / (n - 1) }')"
    rec viewer.first_frame_ms "$b"
    TMUX_SOCK=kmw-bench-$$
    secs=$(q 5 30)
    tmux -L "$TMUX_SOCK" new-session -d -s b -x 200 -y 60 "$BUILD/kmemtop --direct"
    sleep 3
    kpid=$(pgrep -f -n "^$BUILD/kmemtop --direct$" || true)
    if [ -n "$kpid" ]; then
        c0=$(proc_run_ms "$kpid")
        sleep "$secs"
        c1=$(proc_run_ms "$kpid")
        rec viewer.idle_ms_per_s "$(awk -v a="$c0" -v b="$c1" -v s="$secs" 'BEGIN { printf "%.2f", (b - a) / s }')"
    fi
    tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
    TMUX_SOCK=
fi

# ---- the table ---------------------------------------------------------------------------------
verdict() {   # VALUE OP LIMIT
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "") { print "-"; exit }
        ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0)
        print ok ? "met" : "MISSED" }'
}
row() { printf '%-44s %-34s %-12s %-10s %s\n' "$1" "$2" "$3" "$4" "$5"; }

echo
echo "==== kmemwatch benchmark summary ($(uname -r), $(nproc) CPUs) ===="
row "figure" "raw" "result" "target" "verdict"
row "------" "---" "------" "------" "-------"
if want 1; then
    for l in sample sample5k; do
        r=$(get "$l.loop.ratio")
        [ -n "$r" ] && row "1. $l, loop: whole sets (median)" \
            "$(get "$l.loop.full_us") / $(get "$l.loop.floor_us") us" "$r" "<= 1.10" "$(verdict "$r" "<=" 1.10)"
        r=$(get "$l.loop.overhead_ratio")
        [ -n "$r" ] && row "1. $l, loop: reads + parse + append" \
            "+$(get "$l.loop.overhead_us") us on the reads" "$r" "<= 1.10" "$(verdict "$r" "<=" 1.10)"
        r=$(get "$l.tick.ratio_of_sums")
        [ -n "$r" ] && row "1. $l, 1 Hz: whole sets (sums)" \
            "$(get "$l.tick.full_us") / $(get "$l.tick.floor_us") us med" "$r" "<= 1.10" "$(verdict "$r" "<=" 1.10)"
        r=$(get "$l.tick.overhead_ratio")
        [ -n "$r" ] && row "1. $l, 1 Hz: reads + parse + append" \
            "+$(get "$l.tick.overhead_us") us on the reads" "$r" "<= 1.10" "$(verdict "$r" "<=" 1.10)"
    done
fi
if want 2; then
    for c in idle trace live; do
        for f in slabinfo vmallocinfo; do
            r=$(get "parse.$c.$f.ratio")
            [ -n "$r" ] && row "2. $f parse vs sscanf ($c)" \
                "$(get "parse.$c.$f.ours_ns") vs $(get "parse.$c.$f.ref_ns") ns/line" "${r}x" ">= 8x" \
                "$(verdict "$r" ">=" 8)"
            r=$(get "parse.$c.$f.incr_ratio")
            [ -n "$r" ] && row "2. $f incremental vs sscanf ($c)" \
                "$(get "parse.$c.$f.incr_ns") vs $(get "parse.$c.$f.ref_ns") ns/line" "${r}x" ">= 8x" \
                "$(verdict "$r" ">=" 8)"
        done
    done
fi
if want 3; then
    a=$(get tools.kmemctl_slab_ms); b=$(get tools.slabtop_ms); r=$(ratio "$a" "$b")
    row "3. kmemctl slab / slabtop -o (CPU)" "$a / $b ms" "$r" "< 1" "$(verdict "$r" "<=" 0.999)"
    a=$(get tools.kmemctl_metrics_ms); b=$(get tools.node_exporter_scrape_ms); r=$(ratio "$a" "$b")
    row "3. kmemctl metrics / node-exporter scrape" "$a / $b ms" "$r" "< 1" "$(verdict "$r" "<=" 0.999)"
fi
if want 4; then
    for k in slab history history_nocache; do
        for c in 1 10 100; do
            row "4. $k, $c clients: p50 / p99" "$(get "query.$k.c$c.p50_ms") / $(get "query.$k.c$c.p99_ms") ms" \
                "$(get "query.$k.c$c.qps") q/s" "-" "-"
        done
        row "4. $k, daemon CPU per reply (1 client)" "utime + stime / replies" \
            "$(get "query.$k.c1.cpu_ms_per_reply") ms" "-" "-"
        row "4. $k throughput, daemon on one core" "10 clients" "$(get "query.$k.onecore.qps") q/s" "-" "-"
    done
fi
if want 5; then
    v=$(get sample.tick.ring_bytes_per_sample)
    row "5. ring bytes/sample, idle live kernel" "delta $(get sample.tick.ring_delta_bytes_per_sample) + keyframe/3600" \
        "$v" "<= 100" "$(verdict "$v" "<=" 100)"
    v=$(get ring.week.bytes_per_sample)
    row "5. ring bytes/sample, simulated idle week" "$(get ring.week.full_records) samples" "$v" "<= 100" \
        "$(verdict "$v" "<=" 100)"
    row "5. ring bytes/sample, growth trace import" "$(get ring.trace.records) samples" \
        "$(get ring.trace.bytes_per_sample)" "-" "-"
    row "5. ring file after a week" "$(get ring.week.full_span_days) days kept" \
        "$(fmt "$(get daemon.week.ring_file_bytes)" "%d B")" "80 MiB" "-"
    v=$(get daemon.week.rss_anon_kib)
    row "5. daemon RssAnon, week-old ring (KiB)" "RssFile $(get daemon.week.rss_file_kib) KiB" "$v" "<= 16384" \
        "$(verdict "$v" "<=" 16384)"
    for w in 1h 1d 7d; do
        v=$(get "daemon.week.rss_anon_after_${w}_kib")
        row "5. ... after one history reply of $w" "1-second points of one series" "$v" "<= 16384" \
            "$(verdict "$v" "<=" 16384)"
        v=$(get "daemon.week.rss_anon_peak_${w}_kib")
        row "5. ... highest while it is sent ($w)" "RssAnon polled every 10 ms" "$v" "<= 16384" \
            "$(verdict "$v" "<=" 16384)"
    done
    v=$(get daemon.after_load.rss_anon_kib)
    row "5. ... after the query load of 4." "100 clients of history 3600" "$v" "-" "-"
fi
if want 6; then
    worst=$(awk '$1 ~ /^viewer\.frame\..*\.frame_us$/ && $2 > w { w = $2; k = $1 } END { if (k != "")
        { sub(/^viewer\.frame\./, "", k); sub(/\.frame_us$/, "", k); printf "%.3f %s", w / 1000, k } }' "$RES")
    read -r v k <<<"$worst"
    row "6. kmemtop frame, 200x60, worst screen" "update+draw+present, ${k:-?}" "$(fmt "$v" "%s ms")" \
        "< 1 (0.25)" "$(verdict "$v" "<=" 0.999)"
    v=$(awk '$1 ~ /^viewer\.frame\..*\.full_us$/ && $2 > w { w = $2 } END { if (w) printf "%.3f", w / 1000 }' "$RES")
    row "6. ... every row sent (first frame, resize)" "worst screen" "$(fmt "$v" "%s ms")" "< 1" \
        "$(verdict "$v" "<=" 0.999)"
    r=$(get viewer.fresh.ratio)
    row "6. kmemtop idle / daemon, new daemon" \
        "$(get viewer.fresh.kmemtop_ms_per_s) / $(get viewer.fresh.daemon_ms_per_s) ms/s" \
        "$r" "<= 0.25" "$(verdict "$r" "<=" 0.25)"
    r=$(get viewer.full.ratio_to_sampling)
    row "6. ... full 10 min window / sampling" \
        "$(get viewer.full.kmemtop_ms_per_s) / $(get viewer.fresh.daemon_ms_per_s) ms/s" \
        "$r" "<= 0.25" "$(verdict "$r" "<=" 0.25)"
    v=$(get viewer.fresh.before_ms_per_s)
    [ -n "$v" ] && row "6. ... BENCH_VIEWER_BEFORE beside it" "kmemtop on the new / full daemon" \
        "$v / $(get viewer.full.before_ms_per_s) ms/s" "-" "-"
    row "6. ... that daemon (sampling + growth)" "growth judged over 10 min every 10 s" \
        "$(get viewer.full.daemon_ms_per_s) ms/s" "-" "-"
    row "6. suspects: 10 min judged every minute" "records decoded, keyframe / checkpoint" \
        "$(get viewer.judge.decoded_keyframe) / $(get viewer.judge.decoded_checkpoint)" "-" "-"
    row "6. ... CPU per judgement" "from the keyframe / from a checkpoint" \
        "$(get viewer.judge.cpu_us_keyframe) / $(get viewer.judge.cpu_us_checkpoint) us" "-" "-"
    row "6. kmemtop --direct CPU per frame, 200x60" "incl. its sample of /proc" "$(get viewer.frame_ms) ms" "-" "-"
    row "6. kmemtop --direct idle CPU, 1 s refresh" "ms of CPU per second" "$(get viewer.idle_ms_per_s)" "-" "-"
fi
echo "(all figures: $RES)"
