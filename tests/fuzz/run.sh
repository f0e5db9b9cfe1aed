#!/bin/bash
# Run libFuzzer targets over their seed corpus for FUZZ_SECONDS each
# (FUZZ_SMOKE_SECONDS with --tap, as make check does).  New inputs go to
# build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/.
set -u
cd "$(dirname "$0")/../.."
tap=0
if [ "${1:-}" = --tap ]; then
    tap=1
    shift
fi
secs=${FUZZ_SECONDS:-60}
[ "$tap" = 1 ] && secs=${FUZZ_SMOKE_SECONDS:-5}
status=0
for bin in "$@"; do
    name=$(basename "$bin")
    target=${name#fuzz_}
    work=build-fuzz/corpus/$target
    mkdir -p "$work" build-fuzz/artifacts
    mkdir -p build-fuzz/logs
    log=build-fuzz/logs/$name.log
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=build-fuzz/artifacts/"$target"- "$work" tests/fuzz/corpus/"$target" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ "$rc" -eq 0 ]; then
        [ "$tap" = 1 ] && echo "ok - $name: ${execs:-?} executions in ${secs}s, no crash"
        [ "$tap" = 0 ] && echo "$name: ${execs:-?} executions in ${secs}s, no crash"
    else
        status=1
        echo "not ok - $name: exit $rc after ${execs:-?} executions (log: $log)"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/#   /'
    fi
done
exit $status
