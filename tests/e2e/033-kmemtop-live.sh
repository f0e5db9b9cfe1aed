#!/bin/bash
# kmemtop on this kernel: direct sampling of the live /proc in tmux on the
# kmalloc screen while tests/e2e/grow.py holds 9000 pipes.  Each pipe's
# buffer array (16 struct pipe_buffer) is a kmalloc-cg-1k object, so the 1k
# row's cg cell must rise by megabytes, and fall back when the pipes close.
. tests/e2e/lib.sh
t_setup

if [ ! -r /proc/slabinfo ]; then
    ok "live checks # SKIP /proc/slabinfo is not readable (needs root)"
    finish
fi
if ! command -v tmux >/dev/null; then
    ok "live checks # SKIP tmux not installed"
    finish
fi
TMUX_SRV=kmemtop-live-$$
GROW_PID=
cleanup() {
    [ -n "$GROW_PID" ] && kill "$GROW_PID" 2>/dev/null
    tm kill-server
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SRV" # tmux 3.3 leaves it behind
    t_cleanup
}
trap cleanup EXIT

# The cg cell of the 1k row, in bytes ("" when the row is not on the screen).
cg1k() {
    tm capture-pane -p -t kt | awk '
        function bytes(s,   n, u) {
            n = s + 0; u = substr(s, length(s))
            if (u == "K") n *= 1024; else if (u == "M") n *= 1048576; else if (u == "G") n *= 1073741824
            return int(n)
        }
        $1 == "1k" { print bytes($3); exit }'
}

bin=$KMEMTOP
[[ $bin == /* ]] || bin=$PWD/$bin
tm new-session -d -s kt -x 120 -y 40 -c "$PWD" \
    "env LC_ALL=C.UTF-8 $bin --direct --screen kmalloc --interval 0.5 2>$T_TMP/err; echo \$? >$T_TMP/rc"
before=
for _ in $(seq 50); do
    before=$(cg1k)
    [ -n "$before" ] && break
    sleep 0.1
done
if [ -n "$before" ]; then ok "the kmalloc screen shows the 1k row ($before bytes in cg)"; else
    not_ok "the kmalloc screen shows the 1k row" "$(tm capture-pane -p -t kt | head -8)"
    finish
fi
expect_match "the status line says direct /proc" "$(tm capture-pane -p -t kt)" '^ direct /proc \| every 0\.5s'

# grow.py prints "ready" once it holds the pipes, and holds them until its stdin closes.
mkfifo "$T_TMP/in" "$T_TMP/out"
python3 tests/e2e/grow.py pipes 9000 <"$T_TMP/in" >"$T_TMP/out" &
GROW_PID=$!
exec 7>"$T_TMP/in"
read -r -t 20 line <"$T_TMP/out"
expect_eq "grow.py holds 9000 pipes" "$line" ready

after=
for _ in $(seq 60); do
    after=$(cg1k)
    [ -n "$after" ] && [ "$after" -ge $((before + 4 * 1048576)) ] && break
    sleep 0.1
done
if [ -n "$after" ] && [ "$after" -ge $((before + 4 * 1048576)) ]; then
    ok "the 1k row's cg cell rises by megabytes ($before -> $after bytes)"
else
    not_ok "the 1k row's cg cell rises by megabytes" "before $before, after $after" \
        "$(tm capture-pane -p -t kt | grep -E '^ +(SIZE|1k) ')"
fi
expect_match "... and its growth per minute is positive" \
    "$(tm capture-pane -p -t kt | awk '$1=="1k"')" '^ +1k( +[^ ]+){9} +\+[0-9.]+[KMG]'
tm send-keys -t kt 1
ok_grow=
for _ in $(seq 30); do
    grep -Eq '^[ !] (kmalloc|slab) +(1k|kmalloc-cg-1k) ' <<<"$(tm capture-pane -p -t kt)" && ok_grow=1 && break
    sleep 0.1
done
if [ -n "$ok_grow" ]; then ok "the overview lists it among the top growers"; else
    not_ok "the overview lists it among the top growers" "$(tm capture-pane -p -t kt | sed -n '/^KIND/,+10p')"
fi

exec 7>&-
wait "$GROW_PID"
GROW_PID=
tm send-keys -t kt 2
low=
for _ in $(seq 60); do
    low=$(cg1k)
    [ -n "$low" ] && [ "$low" -le $((after - 2 * 1048576)) ] && break
    sleep 0.1
done
if [ -n "$low" ] && [ "$low" -le $((after - 2 * 1048576)) ]; then
    ok "the pipes closed: the cell falls again ($after -> $low bytes)"
else
    not_ok "the pipes closed: the cell falls again" "after $after, now $low"
fi
kmemtop_quit_ok kt

finish
