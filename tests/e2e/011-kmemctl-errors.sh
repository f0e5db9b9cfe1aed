#!/bin/bash
# kmemctl error handling: every failure exits 2 with one line naming the file
# (and line) and the reason; usage errors too.
. tests/e2e/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run "$KMEMCTL" --proc-root "$tmp/nowhere" slab
expect_eq "missing file: exit 2" "$RC" 2
expect_eq "missing file: one line naming path and reason" "$ERR" \
    "kmemctl: $tmp/nowhere/slabinfo: no such file (this kernel has no /proc/slabinfo)"
expect_eq "missing file: nothing on stdout" "$OUT" ""

mkdir -p "$tmp/bad"
{ head -20 "$FIX/idle/slabinfo"; echo "dentry 12 13 x 4 1 : tunables 0 0 0 : slabdata 1 1 0"; } >"$tmp/bad/slabinfo"
run "$KMEMCTL" --proc-root "$tmp/bad" slab
expect_eq "malformed slabinfo: exit 2" "$RC" 2
expect_match "malformed slabinfo: file:line: reason" "$ERR" "^kmemctl: $tmp/bad/slabinfo:21: .+"

head -c 3000 "$FIX/idle/slabinfo" >"$tmp/bad/slabinfo"
run "$KMEMCTL" --proc-root "$tmp/bad" --json kmalloc
expect_eq "truncated slabinfo: exit 2" "$RC" 2
expect_match "truncated slabinfo: names the line" "$ERR" "slabinfo:[0-9]+: .*trunc"

echo "slabinfo - version: 9.9" >"$tmp/bad/slabinfo"
run "$KMEMCTL" --proc-root "$tmp/bad" slab
expect_match "unknown slabinfo version is a clear error" "$ERR" "slabinfo:1: .*9\.9"

: >"$tmp/bad/buddyinfo"
run "$KMEMCTL" --proc-root "$tmp/bad" buddy
expect_eq "empty buddyinfo: exit 2" "$RC" 2
expect_match "empty buddyinfo: says so" "$ERR" "buddyinfo.*empty"

printf 'Node 0, zone   Normal  1 2 3\nNode 0, zone   Movable 1 2\n' >"$tmp/bad/buddyinfo"
run "$KMEMCTL" --proc-root "$tmp/bad" buddy
expect_match "buddyinfo lines disagreeing on orders" "$ERR" "buddyinfo:2: "

printf '0x1-0x2 4096 foo+0x1/0x2 pages=1 vmalloc N0=1\n0x2-0x3 40\x0096 bar vmalloc\n' >"$tmp/bad/vmallocinfo"
run "$KMEMCTL" --proc-root "$tmp/bad" vmalloc
expect_match "NUL byte in vmallocinfo" "$ERR" "vmallocinfo:2: .*NUL"

printf 'MemTotal: 99999999999999999999999 kB\n' >"$tmp/bad/meminfo"
run "$KMEMCTL" --proc-root "$tmp/bad" meminfo
expect_match "meminfo overflow" "$ERR" "meminfo:1: .*range"

# permission denied, as a user who cannot read the file
mkdir -p "$tmp/perm" && cp "$FIX/idle/slabinfo" "$tmp/perm/" && chmod 0400 "$tmp/perm/slabinfo"
chmod 0755 "$tmp" "$tmp/perm"
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    run setpriv --reuid=nobody --regid=nogroup --clear-groups "$KMEMCTL" --proc-root "$tmp/perm" slab
    expect_eq "unreadable file: exit 2" "$RC" 2
    expect_eq "unreadable file: says what is needed" "$ERR" \
        "kmemctl: $tmp/perm/slabinfo: permission denied (needs root or CAP_DAC_READ_SEARCH)"
else
    not_ok "unreadable file test needs user nobody and setpriv"
fi

# usage errors
run "$KMEMCTL" frobnicate
expect_eq "unknown command: exit 2" "$RC" 2
expect_match "unknown command: named" "$ERR" "unknown command 'frobnicate'"
run "$KMEMCTL" --bogus slab
expect_eq "unknown option: exit 2" "$RC" 2
run "$KMEMCTL" --top
expect_match "option without argument" "$ERR" "needs an argument"
run "$KMEMCTL" --top -3 slab
expect_eq "negative --top refused" "$RC" 2
run "$KMEMCTL" --json --csv slab
expect_eq "--json with --csv refused" "$RC" 2
run "$KMEMCTL" --sort name buddy
expect_eq "--sort on buddy refused" "$RC" 2
run "$KMEMCTL"
expect_eq "no command: exit 2 with usage" "$RC:$(grep -c Usage <<<"$ERR")" "2:1"

for p in "$KMEMCTL" "$KMEMTOP" "$KMEMWATCHD"; do
    run "$p" --version
    expect_match "$(basename "$p") --version" "$RC $OUT" "^0 $(basename "$p") [0-9]+\.[0-9]+"
    run "$p" --help
    expect_match "$(basename "$p") --help" "$RC $OUT" "^0 Usage: $(basename "$p")"
done

finish
