#!/bin/bash
# kmemtop screen tests against golden files: the real binary in tmux (120x40,
# its own server), driven by keys, on a replay of the real growth trace
# (tests/fixtures/growth-trace).  A replay is deterministic: the title bar and
# the status line show the recording's own time (TZ=UTC here) and the file's
# base name, so every capture can be compared byte for byte.
#
# Goldens live in tests/golden/kmemtop/NAME.txt.  UPDATE_GOLDEN=1 rewrites
# them from what the screen shows (then review the diff and commit).
. tests/e2e/lib.sh
t_setup
GOLDEN_DIR=tests/golden/kmemtop
UPDATE_GOLDEN=${UPDATE_GOLDEN:-0}

if ! command -v tmux >/dev/null; then
    ok "golden screens # SKIP tmux not installed"
    finish
fi
run "$KMEMCTL" import tests/fixtures/growth-trace "$T_TMP/trace.kmw"
if [ "$RC" -ne 0 ]; then
    not_ok "kmemctl import builds the replay file" "$ERR"
    finish
fi
ok "kmemctl import builds the replay file"

TMUX_SRV=kmemtop-golden-$$
# tmux 3.3 leaves its socket behind after kill-server.
trap 'tm kill-server; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SRV"; t_cleanup' EXIT

# wait_screen REGEX: poll the pane (up to ~5 s) until it shows REGEX; the pane is left in $PANE.
wait_screen() {
    local i
    for i in $(seq 50); do
        PANE=$(tm capture-pane -p -t kt)
        grep -Eq -- "$1" <<<"$PANE" && return 0
        sleep 0.1
    done
    return 1
}
check_screen() {   # desc regex
    if wait_screen "$2"; then ok "$1"; else not_ok "$1" "no /$2/ on the screen:" "$(head -12 <<<"$PANE")"; fi
}
# golden NAME DESC REGEX: once the pane shows REGEX and stops changing it must equal NAME.txt.
golden() {
    local name=$1 desc=$2 f=$GOLDEN_DIR/$1.txt prev="" i d
    if ! wait_screen "$3"; then
        not_ok "$desc" "no /$3/ on the screen:" "$(head -12 <<<"$PANE")"
        return
    fi
    for i in $(seq 20); do
        [ "$PANE" = "$prev" ] && break
        prev=$PANE
        sleep 0.1
        PANE=$(tm capture-pane -p -t kt)
    done
    if [ "$UPDATE_GOLDEN" = 1 ]; then
        mkdir -p "$GOLDEN_DIR"
        printf '%s\n' "$PANE" >"$f"
        ok "$desc # golden $f written"
        return
    fi
    if [ ! -f "$f" ]; then
        not_ok "$desc" "$f is missing (UPDATE_GOLDEN=1 writes it)"
        return
    fi
    if d=$(diff -u "$f" <(printf '%s\n' "$PANE")); then
        ok "$desc"
    else
        not_ok "$desc" "differs from $f (UPDATE_GOLDEN=1 rewrites it):" "$(head -30 <<<"$d")"
    fi
}
keys() { tm send-keys -t kt "$@"; }

bin=$KMEMTOP
[[ $bin == /* ]] || bin=$PWD/$bin
tm new-session -d -s kt -x 120 -y 40 -c "$PWD" \
    "env TZ=UTC LC_ALL=C.UTF-8 $bin --replay $T_TMP/trace.kmw --window 1m 2>$T_TMP/err; echo \$? >$T_TMP/rc"

# --- every screen at the end of the recording ---------------------------------------
golden caches "3 Caches at the end of the recording (the default screen)" \
    '^ replay trace\.kmw \| sort MEMORY \| window 1m'
keys 1
golden overview "1 Overview: meminfo sparklines and the top growers of the window" '^ +KIND +TOP GROWERS'
keys 2
golden kmalloc "2 kmalloc: a column per variant, total, objects, growth, sparkline" '^ +SIZE +normal +cg'
keys 4
golden vmalloc "4 vmalloc: total graph, by type with unpurged apart, by caller" '^ +CALLER +TYPE'
keys 5
golden buddy "5 Buddy: zones, then the selected zone's blocks per order" '^ORDER +BLOCK'
keys Down Down
golden buddy-normal "Down moves the zone selection: the order chart follows" '^ 0:Normal: free blocks'
keys 6
golden graph-zone "6 graphs the selected zone's free memory" 'free memory of zone 0:Normal'
keys Escape
check_screen "Esc leaves the graph for the screen it came from" '^ 0:Normal: free blocks'
keys Tab
check_screen "Tab goes on to the next screen (6, the graph of the selection)" 'free memory of zone 0:Normal'
keys Tab
check_screen "... and from the graph around to 1" '^ +KIND +TOP GROWERS'

# --- sorting, filtering, search -----------------------------------------------------
keys 3 '>'
golden caches-sort-rate "> sorts by the next column (GROWTH/m)" 'sort GROWTH/m \|'
keys I
golden caches-sort-inverted "I inverts the order" 'sort GROWTH/m \(inverted\)'
keys I '<'
check_screen "< and I go back to MEMORY, largest first" 'sort MEMORY \| window'
keys '\' 'kmalloc-cg' Enter
golden caches-filter "\\ filters rows by a regex" '\| filter kmalloc-cg'
keys '\' BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace Enter
check_screen "an empty filter shows every row again" '^ 235 caches +76\.3M in slabs +70\.5M in active objects \(92%\)$'
keys / dentry Escape Enter
golden graph-dentry "/ finds a row, Enter graphs it (min, max, last, time axis)" 'slab cache dentry +window 1m'
keys Escape

# --- time ---------------------------------------------------------------------------------
keys t t t t t
golden caches-back5 "t steps back through the recording's records" '\| at 00:49:29 \(-4s\)'
keys T T
golden caches-fwd2 "T steps forward" '\| at 00:49:30 \(-2s\)'
keys m T T T T T T
check_screen "T past the newest record stays there (a replay does not follow)" 'at 00:49:33 \(newest\)'
golden caches-mark "m marks a record: vs MARK counts from it" '\| mark 00:49:30'
keys 1 b -20s Enter
golden overview-jump "b -20s jumps 20 s before the newest record" '\| at 00:49:13 \(-20s\)'
keys b 00:49:06 Enter
check_screen "b HH:MM:SS jumps to the record at or before that time (the first)" '\| at 00:49:06 \(-26s\)'
keys t
check_screen "t at the oldest record says so" 'at the oldest record'
keys b junk Enter
check_screen "b with a bad time says what it expects" "'junk': expected HH:MM\[:SS\] or -DURATION"
keys w
check_screen "w cycles the window (1m -> 10m)" '\| window 10m \|'
keys w w w
check_screen "... and around (1h, 1d, 1m)" '\| window 1m \|'

# --- help, resize -----------------------------------------------------------------------
keys 3 '?'
golden help "? shows the help generated from the key table" '^ +q +Quit$'
keys Escape
check_screen "Esc closes the help" '^ +NAME +ACTIVE'
tm resize-window -t kt -x 50 -y 12
golden too-small "50x12 shows 'terminal too small'" 'too small'
tm resize-window -t kt -x 120 -y 40
golden caches-back-from-small "back at 120x40 the screen is as before" '^ +NAME +ACTIVE'

kmemtop_quit_ok kt

# --- leak suspects: judged over 10 s during the ramp, marked in every table, gone after ---
# The trace ramps from 005 to 019 (threads: vmalloc kernel_clone; pipes: kmalloc cg-1024;
# files: dentry) and releases everything at 020: kmemctl --replay ... check --window 10s
# flags 21 series from 011 to 019 and none from 020 on.
t_ramp=$(awk '{printf "%.3f", $1 / 1e9 + 0.1}' tests/fixtures/growth-trace/014/time_ns)
t_end=$(awk '{printf "%.3f", $1 / 1e9 + 0.1}' tests/fixtures/growth-trace/029/time_ns)
rm -f "$T_TMP/rc" "$T_TMP/err"
tm new-session -d -s kt -x 120 -y 40 -c "$PWD" \
    "env TZ=UTC LC_ALL=C.UTF-8 $bin --replay $T_TMP/trace.kmw --window 1m --suspect-window 10s \
     --suspect-size 1M --at $t_ramp --screen overview 2>$T_TMP/err; echo \$? >$T_TMP/rc"
golden suspects-overview "Overview during the ramp lists the suspects of 10 s (and 1m) at 120x40" \
    '^ 21 leak suspects over 10s and 1m \(>= 1\.0M, steady\), marked ! in the tables$'
for row in 'vmalloc .* kernel_clone' 'kmalloc .* cg-1024' 'slab .* dentry'; do
    expect_match "... among them: $row" "$PANE" "^! $row\$"
done
expect_match "... the meminfo rows they weigh on are marked" "$PANE" '^! SUnreclaim +[0-9.]+M '
expect_match "... and the top growers" "$PANE" '^! vmalloc kernel_clone +[0-9.]+M '
keys 2
golden suspects-kmalloc "2 kmalloc marks the 1k class (cg-1024 and total-1024 are suspects)" '^!  +1k '
keys 3
golden suspects-caches "3 Caches marks the suspect caches" '^! dentry '
expect_match "... kmalloc-cg-1k among them" "$PANE" '^! kmalloc-cg-1k '
keys 4
golden suspects-vmalloc "4 vmalloc marks the caller and the total" '^! kernel_clone '
expect_match "... the total row" "$PANE" '^! total +[0-9]+ '
keys 1
# (each size waits for what only it shows: the previous screen stays until kmemtop redraws)
tm resize-window -t kt -x 60 -y 15
golden suspects-60x15 "60x15 (the smallest laid out): the line, one suspect, the others counted" \
    '^ \.\.\. and 20 more'
tm resize-window -t kt -x 80 -y 24
golden suspects-80x24 "80x24: the suspects take what the top growers leave" '^ +KIND +TOP GROWERS'
tm resize-window -t kt -x 120 -y 40
keys b 00:49:33 Enter
golden suspects-gone "after the release (the end of the trace) the suspects are gone" \
    '^ no leak suspects over 10s and 1m \(>= 1\.0M, steady\)'
keys 3
check_gone "... and no table marks a row" '^! '
keys b 00:49:25 Enter
check_screen "b 00:49:25: the first record after the release has none" '\| at 00:49:25 '
keys 1
check_screen "... on the Overview either" '^ no leak suspects over 10s'
keys t
check_screen "t: one record back, in the ramp, they are back" '^ 21 leak suspects over 10s'
keys T
check_screen "T: forward again, gone" '^ no leak suspects over 10s'
kmemtop_quit_ok kt

# kmemtop's suspects are kmemctl's for the same windows and end: each window through
# `kmemctl check` ("suspect: KIND NAME FIELD grew NET in W (RATE/h, steadiness S)"), a series
# flagged by both under the shorter one, as kmemtop lists them.
kmemctl_suspects() {   # AT
    for w in 10s 60s; do
        "$KMEMCTL" --replay "$T_TMP/trace.kmw" --at "$1" check --window "$w" --threshold 1M
        [ $? -le 1 ] || echo "kmemctl check failed"
    done | awk '$1 == "suspect:" {
        key = $2 " " $3 " " $4; if (key in seen) next; seen[key] = 1
        rate = $9; gsub(/[(,]/, "", rate); s = $11; sub(/\)$/, "", s)
        print key, $6, rate, s, $8 }' | sort
}
# The suspects table of the Overview: "! KIND GROWTH/h NET STEADY WINDOW NAME"; a meminfo
# series is named by its key, and each kind has one bytes field (growth.h).
kmemtop_suspects() {   # AT
    env TZ=UTC "$KMEMTOP" --replay "$T_TMP/trace.kmw" --batch --screen overview --window 1m \
        --suspect-window 10s --suspect-size 1M --at "$1" |
        awk '/leak suspects over/ { f = 1; next } /^$/ { f = 0 } f && $1 == "!" && $2 != "KIND" {
            field = $2 == "vmalloc" ? "bytes" : $2 == "meminfo" ? $7 : "bytes_total"
            print $2, ($2 == "meminfo" ? "-" : $7), field, $4, $3, $5, $6 }' | sort
}
# The differences between the two lists: none when they are equal.  Steadiness may differ by
# 0.01: kmemctl rounds it to 0.001 (its JSON) before printing two decimals, kmemtop once.
suspects_diff() {   # KMEMTOP_LINES KMEMCTL_LINES
    awk 'NR == FNR { if (NF) tm[$1 " " $2 " " $3 " " $4 " " $5 " " $7] = $6; next }
        NF { k = $1 " " $2 " " $3 " " $4 " " $5 " " $7
             if (!(k in tm)) { print "kmemctl only: " $0; next }
             d = tm[k] - $6; if (d > 0.0101 || d < -0.0101) print "steadiness " tm[k] ": " $0
             delete tm[k] }
        END { for (k in tm) print "kmemtop only: " k }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}
want=$(kmemctl_suspects "$t_ramp")
expect_eq "kmemctl flags the ramp's series (the comparison below is not empty)" \
    "$(grep -cE '^(vmalloc kernel_clone|kmalloc cg-1024|slab dentry) ' <<<"$want")" 3
got=$(kmemtop_suspects "$t_ramp")
expect_eq "kmemtop's suspects during the ramp are kmemctl check's (kind, name, net, rate, steadiness, window)" \
    "$(wc -l <<<"$got") $(suspects_diff "$got" "$want")" "$(wc -l <<<"$want") "
expect_eq "... and after the release: none from either" \
    "$(kmemtop_suspects "$t_end")|$(kmemctl_suspects "$t_end")" "|"

# --- batch on a replay: deterministic ----------------------------------------------------
for s in overview kmalloc caches vmalloc buddy graph; do
    run env TZ=UTC LC_ALL=C.UTF-8 "$KMEMTOP" --replay "$T_TMP/trace.kmw" --batch --window 1m \
        --screen "$s" --height 40
    out1=$OUT
    run env TZ=UTC LC_ALL=C.UTF-8 "$KMEMTOP" --replay "$T_TMP/trace.kmw" --batch --window 1m \
        --screen "$s" --height 40
    if [ "$RC" -eq 0 ] && [ "$out1" = "$OUT" ] && [ -n "$OUT" ]; then
        ok "batch --screen $s on a replay is deterministic"
    else
        not_ok "batch --screen $s on a replay is deterministic" "rc $RC" "$ERR"
    fi
done
run env TZ=UTC "$KMEMTOP" --replay "$T_TMP/trace.kmw" --batch -n 2 --screen caches
expect_eq "batch -n 2 on a replay prints the newest record twice" \
    "$(grep -E '^kmemtop [0-9]{4}-' <<<"$OUT" | uniq -c | awk '{print $1, $3, $4}')" "2 2026-11-22 00:49:33"
at=$(awk '{printf "%.3f", $1 / 1e9 + 0.1}' tests/fixtures/growth-trace/010/time_ns)
run env TZ=UTC "$KMEMTOP" --replay "$T_TMP/trace.kmw" --batch --at "$at" --screen caches
expect_match "--at TIME shows the record at that time" "$OUT" '^kmemtop 2026-11-22 00:49:15$'
want=$(awk '$1=="dentry"{print $2}' tests/fixtures/growth-trace/010/slabinfo)
expect_eq "... with that record's numbers (dentry active objects)" \
    "$(awk '$1=="dentry"{print $2}' <<<"$OUT")" "$want"
run env TZ=UTC "$KMEMTOP" --replay "$T_TMP/trace.kmw" --batch --at 1000 --screen caches
expect_match "--at before the recording shows its first record" "$OUT" '^kmemtop 2026-11-22 00:49:06$'
# The history path (ring record -> tables) must show what direct sampling shows.
mkdir -p "$T_TMP/one/000"
cp "$FIX"/idle/{slabinfo,vmallocinfo,buddyinfo,meminfo} "$T_TMP/one/000/"
cat tests/fixtures/growth-trace/000/time_ns >"$T_TMP/one/000/time_ns"
[ -f "$FIX/idle/pagesize" ] && cp "$FIX/idle/pagesize" "$T_TMP/one/"
if "$KMEMCTL" import "$T_TMP/one" "$T_TMP/one.kmw" 2>"$T_TMP/imp.err"; then
    for s in overview kmalloc caches vmalloc buddy; do
        # Without the title, the status line and the graph's time axis (clock times differ).
        d=$(diff <("$KMEMTOP" --batch -n 1 --proc-root "$FIX/idle" --screen "$s" | sed '1,2d;$d' | grep -v '^time ') \
                 <("$KMEMTOP" --batch --replay "$T_TMP/one.kmw" --screen "$s" | sed '1,2d;$d' | grep -v '^time '))
        if [ -z "$d" ]; then ok "a replay shows what direct sampling shows: $s"; else
            not_ok "a replay shows what direct sampling shows: $s" "$(head -10 <<<"$d")"
        fi
    done
else
    not_ok "kmemctl import of one snapshot" "$(cat "$T_TMP/imp.err")"
fi

run "$KMEMTOP" --replay "$T_TMP/nope.kmw" --batch
expect_eq "a missing replay file exits 2" "$RC" 2
expect_match "... saying which file" "$ERR" "^kmemtop: $T_TMP/nope.kmw: "
printf 'not a ring\n' >"$T_TMP/bad.kmw"
run "$KMEMTOP" --replay "$T_TMP/bad.kmw" --batch
expect_eq "a file that is not a ring exits 2" "$RC" 2
run "$KMEMTOP" --replay "$T_TMP/trace.kmw" --direct --batch
expect_eq "--replay with --direct is refused" "$RC" 2

finish
