#!/bin/bash
# Runs every test and ends with "N passed, N failed".
#
# Every test speaks TAP ("ok - name" / "not ok - name"): cmocka unit tests via
# CMOCKA_MESSAGE_OUTPUT=TAP, the end-to-end scripts via tests/e2e/lib.sh, the
# fuzz smoke runs one line per target.  A test file that exits non-zero
# without a "not ok" line (a crash, a sanitizer report) counts as one failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
FUZZ_SMOKE=${FUZZ_SMOKE:-1}
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-5}
ONLY=${ONLY:-}          # run only test files whose name contains $ONLY

pass=0
fail=0
failed_files=()

run_one() {     # name, command...
    local name=$1 out rc p f
    shift
    out=$("$@" 2>&1)
    rc=$?
    p=$(grep -c '^ok ' <<<"$out")
    f=$(grep -c '^not ok ' <<<"$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    if [ "$f" -gt 0 ]; then
        failed_files+=("$name")
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
    pass=$((pass + p))
    fail=$((fail + f))
    printf '%-44s %4d passed, %d failed\n' "$name" "$p" "$f"
}

want() { [ -z "$ONLY" ] || [[ "$1" == *"$ONLY"* ]]; }

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    want "$t" || continue
    run_one "unit/$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done

for t in tests/e2e/[0-9]*.sh; do
    want "$t" || continue
    run_one "e2e/$(basename "$t" .sh)" bash "$t"
done

if [ "$FUZZ_SMOKE" = 1 ]; then
    for t in build-fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        want "$t" || continue
        run_one "fuzz/$(basename "$t")" tests/fuzz/run.sh --tap "$t"
    done
fi

if [ ${#failed_files[@]} -gt 0 ]; then
    echo "failed: ${failed_files[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
