#!/bin/bash
# kmemtop: --batch frames of every screen on a recorded /proc (values checked
# against the fixture with awk), the curses UI driven through tmux (screens,
# help, filter, time steps through the session's history, resize, quit), and
# one live frame.  Golden screens of a replay: 031; the daemon: 032; live
# growth: 033.
. tests/e2e/lib.sh
IDLE=$FIX/idle

# fmt_bytes of common/util.c, in awk: 1023 -> 1023B, 1536 -> 1.5K, >= 1000 units -> no decimals.
AWK_FMT_BYTES='function fmt_bytes(b,   u, i) {
    if (b < 1024) return sprintf("%dB", b)
    u = "KMGTPE"; i = 0
    while (b >= 1024 && i < 6) { b /= 1024; i++ }
    return sprintf(b >= 1000 ? "%.0f%s" : "%.1f%s", b, substr(u, i, 1))
}'

# Lines of frame N (1-based) of batch output, without its "kmemtop <time>" header.
frame() {   # output n
    awk -v n="$2" '/^kmemtop [0-9][0-9][0-9][0-9]-/{f++; next} f==n' <<<"$1"
}

# --- batch: caches ------------------------------------------------------------
run "$KMEMTOP" --batch -n 2 --proc-root "$IDLE"
expect_eq "batch caches exits 0" "$RC" 0
expect_eq "batch -n 2 prints two frames with a header each" \
    "$(grep -cE '^kmemtop [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$' <<<"$OUT")" 2
expect_eq "frames are separated by a blank line" \
    "$(grep -B1 -E '^kmemtop [0-9]{4}-' <<<"$OUT" | sed -n 3p)" ""
f1=$(frame "$OUT" 1)
expect_match "caches is the default screen, with the slabtop columns" "$f1" \
    '^ +NAME +ACTIVE +OBJS +USE% +OBJSIZE +SLABS +MEMORY +GROWTH/m +vs START +vs MARK +HISTORY'
rows=$(awk '/^ +NAME /{f=1; next} /^ direct /{f=0} f' <<<"$f1")
n_file=$(awk 'NR>2' "$IDLE/slabinfo" | wc -l)
expect_eq "caches lists every cache of the fixture" "$(grep -c . <<<"$rows")" "$n_file"
expect_eq "... each by its name (caches missing from the screen:)" \
    "$(comm -13 <(awk '{print $1}' <<<"$rows" | sort) <(awk 'NR>2{print $1}' "$IDLE/slabinfo" | sort) | head -5)" ""
first=$(awk 'NR>2{print $15*$6*4096, $1}' "$IDLE/slabinfo" | sort -k1,1nr -k2 | head -1 | awk '{print $2}')
expect_eq "caches sorted by memory by default" "$(head -1 <<<"$rows" | awk '{print $1}')" "$first"
want=$(awk "$AWK_FMT_BYTES"' $1=="dentry"{print $2, $3, int($2*100/$3) "%", $4, $15, fmt_bytes($15*$6*4096)}' "$IDLE/slabinfo")
expect_eq "dentry row: active objs use% objsize slabs memory" \
    "$(awk '$1=="dentry"{print $2, $3, $4, $5, $6, $7}' <<<"$rows")" "$want"
expect_eq "growth is '-' in the first frame, 0 in the second (the fixture does not change)" \
    "$(awk '$1=="dentry"{print $8}' <<<"$rows") $(frame "$OUT" 2 | awk '$1=="dentry"{print $8}')" "- 0"
expect_match "status line names the source, interval, sort and window" "$f1" \
    "^ direct $IDLE \\| every 1s \\| sort MEMORY \\| window 10m"
expect_eq "vs START is 0 from the first frame on, vs MARK '-' without a mark" \
    "$(awk '$1=="dentry"{print $9, $10}' <<<"$rows")" "0 -"

# --- batch: kmalloc -------------------------------------------------------------
run "$KMEMTOP" --batch -n 2 --interval 0.5 --screen kmalloc --proc-root "$IDLE"
expect_eq "batch kmalloc exits 0" "$RC" 0
f2=$(frame "$OUT" 2)
expect_match "kmalloc matrix columns" "$f2" \
    '^ *SIZE +normal +cg +rcl +dma +rnd +TOTAL +ACTIVE/OBJS +USE% +GROWTH/m +vs START +vs MARK +HISTORY'
cg1k=$(awk "$AWK_FMT_BYTES"' $1=="kmalloc-cg-1k"{print fmt_bytes($15*$6*4096)}' "$IDLE/slabinfo")
expect_eq "1k row: the cg cell is kmalloc-cg-1k's memory" "$(awk '$1=="1k"{print $3}' <<<"$f2")" "$cg1k"
expect_eq "size classes ascending, as the data has them" \
    "$(awk '/^ *SIZE /{f=1; next} /^ direct /{f=0} f{print $1}' <<<"$f2" | paste -sd' ')" \
    "8 16 32 64 96 128 192 256 512 1k 2k 4k 8k"

# --- batch: overview ------------------------------------------------------------
run "$KMEMTOP" --batch -n 2 --interval 0.5 --window 1m --screen overview --proc-root "$IDLE"
expect_eq "batch overview exits 0" "$RC" 0
sunr=$(awk "$AWK_FMT_BYTES"' $1=="SUnreclaim:"{print fmt_bytes($2*1024)}' "$IDLE/meminfo")
expect_eq "overview shows SUnreclaim from meminfo" \
    "$(frame "$OUT" 2 | awk '$1=="SUnreclaim"{print $2}')" "$sunr"
expect_match "overview has the top growers table" "$OUT" '^ +KIND +TOP GROWERS IN THE WINDOW +NOW +GROWTH'
expect_match "... empty while nothing grows" "$OUT" '^ \(nothing grew in the window\)'

# --- batch: leak suspects (judged over the session's own ring: one sample is no history) ---
run "$KMEMTOP" --batch -n 1 --screen overview --window 1h --suspect-window 2m --suspect-size 4M \
    --proc-root "$IDLE"
expect_eq "batch overview with --suspect-window and --suspect-size exits 0" "$RC" 0
expect_match "... says what it judged (the minimum and the longer selected window) and why no verdict yet" \
    "$OUT" '^ no leak suspects over 2m and 1h \(>= 4\.0M, steady\): a verdict over 2m needs 1m30s of history, has 0s$'
expect_no_match "... in plain text: no escape sequences" "$OUT" $'\x1b'
expect_no_match "... and no row marked" "$OUT" '^! '
run "$KMEMTOP" --batch -n 1 --screen overview --proc-root "$IDLE"
expect_match "the defaults are kmemwatchd.conf's: 10m, 1M" "$OUT" '^ no leak suspects over 10m \(>= 1\.0M, steady\)'
for bad in "--suspect-window 0" "--suspect-window 31d" "--suspect-window soon" \
    "--suspect-size 2048T" "--suspect-size big"; do
    run "$KMEMTOP" --batch -n 1 --proc-root "$IDLE" $bad
    expect_eq "$bad exits 2" "$RC|$OUT" "2|"
done
expect_match "... saying what it expects" "$ERR" "^kmemtop: --suspect-size 'big': expected a size"
run "$KMEMTOP" --help
expect_match "--help names --suspect-window" "$OUT" '^  --suspect-window D'

# --- batch: vmalloc, buddy, graph ---------------------------------------------------
run "$KMEMTOP" --batch -n 1 --screen vmalloc --proc-root "$IDLE"
expect_eq "batch vmalloc exits 0" "$RC" 0
areas=$(grep -c . "$IDLE/vmallocinfo")
unp=$(grep -c 'unpurged vm_area' "$IDLE/vmallocinfo")
expect_match "vmalloc: the area count leaves out unpurged areas, said apart" "$OUT" \
    "^ $((areas - unp)) areas, .*unpurged: $unp areas, .*\\(freed lazily, not a leak\\)"
expect_match "... by type" "$OUT" '^ +BY TYPE +AREAS +BYTES'
expect_match "... by caller, with real pages" "$OUT" '^ +CALLER +TYPE +AREAS +BYTES +REAL'
n_kc=$(awk '$3 ~ /kernel_clone/' "$IDLE/vmallocinfo" | wc -l)
expect_eq "... kernel_clone's areas" "$(awk '$1=="kernel_clone"{print $3}' <<<"$OUT")" "$n_kc"
run "$KMEMTOP" --batch -n 1 --screen buddy --proc-root "$IDLE"
expect_eq "batch buddy exits 0" "$RC" 0
expect_eq "buddy lists every zone" "$(awk '/^ZONE /{f=1; next} /^$/{f=0} f{print $1}' <<<"$OUT" | paste -sd' ')" \
    "$(awk '{sub(",", "", $2); print $2 ":" $4}' "$IDLE/buddyinfo" | paste -sd' ')"
first_zone=$(awk '{sub(",", "", $2); print $2 ":" $4; exit}' "$IDLE/buddyinfo")
want=$(awk '{print $5; exit}' "$IDLE/buddyinfo")
expect_eq "... and the first zone's order-0 blocks" "$(awk '$1=="0" && NF>=5 {print $3; exit}' <<<"$OUT")" "$want"
expect_match "... under its order chart title" "$OUT" "^ $first_zone: free blocks per order"
run "$KMEMTOP" --batch -n 2 --interval 0.5 --window 1m --screen graph --proc-root "$IDLE"
expect_eq "batch graph exits 0" "$RC" 0
expect_match "graph shows total Slab when no row is selected" "$OUT" '^ meminfo Slab +window 1m: 2 points'
f2=$(frame "$OUT" 2)
expect_eq "... labelled max, last and min, top to bottom" \
    "$(grep -oE '^(max|last|min) ' <<<"$f2" | paste -sd' ')" "max  last  min "
expect_match "... and a time axis" "$OUT" '^time +[0-9]{2}:[0-9]{2}:[0-9]{2} +[0-9]{2}:[0-9]{2}:[0-9]{2}$'
run env LC_ALL=C "$KMEMTOP" --batch -n 2 --interval 0.5 --window 1m --screen graph --proc-root "$IDLE"
expect_match "outside UTF-8 the graph is ASCII" "$(frame "$OUT" 2)" '^min [0-9.]+[KMG] +#+$'
if LC_ALL=C grep -q $'[\x80-\xff]' <<<"$OUT"; then
    not_ok "... with no byte above 0x7f" "$(LC_ALL=C grep -n $'[\x80-\xff]' <<<"$OUT" | head -3)"
else
    ok "... with no byte above 0x7f"
fi

# --- options and errors ---------------------------------------------------------
run "$KMEMTOP" --version
expect_eq "--version" "$OUT" "kmemtop 0.1.0"
run "$KMEMTOP" --keys
expect_match "--keys prints man page rows from the key table" "$OUT" $'^\\.TP$'
expect_eq "... q is Quit" "$(grep -A1 '^\.B q$' <<<"$OUT" | tail -1)" "Quit"
expect_match "... backslash escaped for roff" "$OUT" '^\.B \\e$'
run "$KMEMTOP" --batch -n 1 --proc-root /nonexistent
expect_eq "an unreadable source in batch exits 2" "$RC" 2
expect_match "... the frame shows a warning line" "$OUT" '^ slabinfo unreadable: /nonexistent/slabinfo'
expect_match "... and stderr says why" "$ERR" '^kmemtop: /nonexistent/slabinfo'
run "$KMEMTOP" --batch --screen bogus
expect_eq "an unknown --screen exits 2" "$RC" 2
run "$KMEMTOP" --batch --window 5m
expect_eq "an unknown --window exits 2" "$RC" 2
expect_match "... naming the windows" "$ERR" "expected 1m, 10m, 1h or 1d"
run "$KMEMTOP" --socket /nonexistent/kmw.sock --batch -n 1
expect_eq "batch on a socket where no daemon listens exits 2" "$RC" 2
expect_match "... saying why" "$ERR" '^kmemtop: /nonexistent/kmw.sock: no such socket'
run "$KMEMTOP" --keys
for k in 4 5 6 t T b w m Enter Esc; do
    if grep -qx "\.B $k" <<<"$OUT"; then ok "--keys lists $k"; else not_ok "--keys lists $k"; fi
done

# --- curses UI in tmux ------------------------------------------------------------
if ! command -v tmux >/dev/null; then
    ok "tmux tests # SKIP tmux not installed"
    finish
fi
TMUX_SRV=kmemtop-test-$$
TMP=$(mktemp -d)
# tmux 3.3 leaves its socket behind after kill-server.
cleanup() { tm kill-server 2>/dev/null; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SRV"; rm -rf "$TMP"; }
trap cleanup EXIT

# wait_for REGEX: poll the pane (up to ~5 s) until it shows REGEX; the pane is left in $PANE.
wait_for() {
    local i
    for i in $(seq 50); do
        PANE=$(tm capture-pane -p -t kt 2>/dev/null)
        grep -Eq -- "$1" <<<"$PANE" && return 0
        sleep 0.1
    done
    return 1
}
check_screen() {   # desc regex
    if wait_for "$2"; then ok "$1"; else not_ok "$1" "no /$2/ on the screen:" "$(head -12 <<<"$PANE")"; fi
}
check_gone() {   # desc regex: wait until the pane no longer shows it
    local i
    for i in $(seq 50); do
        PANE=$(tm capture-pane -p -t kt 2>/dev/null)
        grep -Eq -- "$2" <<<"$PANE" || { ok "$1"; return; }
        sleep 0.1
    done
    not_ok "$1" "still /$2/ on the screen:" "$(tail -2 <<<"$PANE")"
}

bin=$KMEMTOP
[[ $bin == /* ]] || bin=$PWD/$bin
# The shell around kmemtop records its exit status and stderr (sanitizer reports land there).
tm new-session -d -s kt -x 120 -y 40 -c "$PWD" \
    "$bin --proc-root $IDLE 2>$TMP/err; echo \$? >$TMP/rc"
pid=$(tm display-message -p -t kt '#{pane_pid}')

check_screen "screen 3 (Caches) shows the NAME header" '^ +NAME +ACTIVE +OBJS'
check_screen "... and the dentry cache" '^[ !] dentry '
tm send-keys -t kt 2
check_screen "2 shows the kmalloc matrix" '^ *SIZE +normal +cg +rcl +dma +rnd +TOTAL'
tm send-keys -t kt '?'
check_screen "? shows the help generated from the key table" '^ +q +Quit$'
expect_match "... with every binding (the filter key too)" "$PANE" '^ +\\ +Filter rows'
tm send-keys -t kt Escape
check_screen "Esc closes the help" '^ *SIZE +normal +cg'
tm send-keys -t kt 3 '\'
check_screen "\\ opens the filter prompt" '^ Filter \(regex'
tm send-keys -t kt '^kmalloc-cg' Enter
check_screen "the filter shows on the status line" '\| filter \^kmalloc-cg'
rows=$(awk '/^ +NAME /{f=1; next} /^ direct /{f=0} f && NF' <<<"$PANE")
expect_eq "the filter leaves only kmalloc-cg rows" \
    "$(grep -vc '^[ !] kmalloc-cg-' <<<"$rows") $(grep -c . <<<"$rows")" "0 $(grep -c '^kmalloc-cg-' "$IDLE/slabinfo")"
tm send-keys -t kt z
check_screen "z pauses: the status line says PAUSED" '\| PAUSED'
tm send-keys -t kt z
check_gone "z again follows the samples: PAUSED is gone" '\| PAUSED'
sleep 1.2 # two samples in the session's history at least
tm send-keys -t kt t
check_screen "t steps back through the session's own history" '\| at [0-9:]{8} \(-[0-9]+s\)'
tm send-keys -t kt T T
check_gone "T at the newest record follows new samples again" '\| at [0-9:]{8}'
tm send-keys -t kt +
check_screen "+ samples less often" 'every 1\.5s'
tm send-keys -t kt m
check_screen "m sets the mark" 'mark set: vs MARK counts from here'
tm resize-window -t kt -x 40 -y 10
check_screen "40x10 shows 'too small'" 'too small'
tm resize-window -t kt -x 120 -y 40
check_screen "back to 120x40 restores the table" '^ +NAME +ACTIVE +OBJS'
expect_match "... still filtered" "$PANE" '^[ !] kmalloc-cg-1k '
tm send-keys -t kt q
for _ in $(seq 50); do
    [ -s "$TMP/rc" ] && ! tm has-session -t kt 2>/dev/null && break
    sleep 0.1
done
if tm has-session -t kt 2>/dev/null; then not_ok "q quits: the pane is gone"; else ok "q quits: the pane is gone"; fi
# The pane's shell may linger as a zombie until something reaps it: that counts as ended.
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }
for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
if alive "$pid" || [ ! -s "$TMP/rc" ]; then not_ok "... and the process ended"; else ok "... and the process ended"; fi
expect_eq "... with status 0 and nothing on stderr" "$(cat "$TMP/rc" 2>/dev/null)|$(cat "$TMP/err" 2>/dev/null)" "0|"

# --- the terminal is restored when kmemtop dies of a signal -------------------------
for sig in TERM SEGV; do
    rm -f "$TMP/rc2" "$TMP/stty2"
    tm new-session -d -s kc -x 100 -y 30 -c "$PWD" \
        "$bin --proc-root $IDLE 2>/dev/null; echo \$? >$TMP/rc2; stty -a >$TMP/stty2 2>&1; sleep 5"
    for _ in $(seq 50); do
        PANE=$(tm capture-pane -p -t kc 2>/dev/null)
        grep -Eq '^ +NAME ' <<<"$PANE" && break
        sleep 0.1
    done
    kpid=$(pgrep -P "$(tm display-message -p -t kc '#{pane_pid}')" kmemtop | head -1)
    kill -"$sig" "$kpid" 2>/dev/null
    for _ in $(seq 50); do
        [ -s "$TMP/stty2" ] && break
        sleep 0.1
    done
    want=$((128 + $(kill -l "$sig")))
    expect_eq "SIG$sig: kmemtop dies of it (status $want)" "$(cat "$TMP/rc2" 2>/dev/null)" "$want"
    if grep -Eq '(^|[ ;])-(echo|icanon)([ ;]|$)' "$TMP/stty2" 2>/dev/null || [ ! -s "$TMP/stty2" ]; then
        not_ok "... and the terminal is back in cooked mode with echo" "$(head -5 "$TMP/stty2" 2>/dev/null)"
    else
        ok "... and the terminal is back in cooked mode with echo"
    fi
    tm kill-session -t kc
done

# --- live ---------------------------------------------------------------------------
if [ -r /proc/slabinfo ]; then
    run "$KMEMTOP" --batch -n 1 --screen caches
    expect_eq "live: batch on /proc exits 0" "$RC" 0
    expect_match "live: lists kmalloc-cg-1k" "$OUT" '^[ !] kmalloc-cg-1k '
    expect_match "live: the status line says direct /proc (no daemon)" "$OUT" '^ direct /proc \(no daemon\)'
else
    ok "live checks # SKIP /proc/slabinfo is not readable (needs root)"
fi

finish
