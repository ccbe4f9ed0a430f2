#!/usr/bin/env bash
# Runs `swift test` with all its output (including the summary lines, which Swift Testing writes
# to stderr) on stdout, fails if any test broker outlived the test process, and ends with one
# plain line counting XCTest and Swift Testing results together:
#   tests: N passed, M failed
#
# The brokers of this run live under a private TMPDIR, so the leak check cannot confuse them
# with brokers of another test run on the same machine.
set -euo pipefail

say() { echo "[swift-test] $*"; }

run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/plexus-test-run.XXXXXX")"
trap 'rm -rf "$run_tmp"' EXIT
log="$run_tmp/swift-test.log"

set +e
# A hung test must fail the run, not hold CI until its deadline: the whole suite
# normally takes about a minute, so 25 minutes is a generous bound.
TMPDIR="$run_tmp" timeout --kill-after=30s "${PLEXUS_TEST_TIMEOUT:-1500}" swift test "$@" 2>&1 | tee "$log"
status="${PIPESTATUS[0]}"
set -e
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    say "swift test did not finish within ${PLEXUS_TEST_TIMEOUT:-1500} s: a test hangs (the last 'started' lines above without a result name it)"
fi

# A broker's command line is `mosquitto -c $TMPDIR/plexus-testing/mosquitto-XXXXXX/mosquitto.conf`.
leaked=()
for pid in $(pgrep -x mosquitto || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$run_tmp/"; then
        leaked+=("$pid")
    fi
done
if [ "${#leaked[@]}" -gt 0 ]; then
    say "LEAKED test brokers after swift test: ${leaked[*]}"
    ps -o pid,ppid,etime,args -p "$(IFS=,; echo "${leaked[*]}")" || true
    kill -9 "${leaked[@]}" 2>/dev/null || true
    [ "$status" -ne 0 ] || status=1
else
    say "no test broker outlived the test run"
fi

# XCTest: the last "Executed N tests, with M failures" is the grand total.
xc_line="$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -n 1 || true)"
xc_total="$(sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p' <<<"$xc_line")"
xc_failed="$(sed -nE 's/.*with ([0-9]+) failures?.*/\1/p' <<<"$xc_line")"
# Swift Testing: "Test run with N tests in M suites passed|failed ..."; failed tests each print
# a 'Test ... failed after' line (suites print 'Suite ... failed after').
st_line="$(grep -E 'Test run with [0-9]+ tests?' "$log" | tail -n 1 || true)"
st_total="$(sed -nE 's/.*Test run with ([0-9]+) tests?.*/\1/p' <<<"$st_line")"
st_failed="$(grep -E ' Test .* failed after' "$log" | grep -vc 'Test run with' || true)"
passed=$(( (${xc_total:-0} - ${xc_failed:-0}) + (${st_total:-0} - ${st_failed:-0}) ))
failed=$(( ${xc_failed:-0} + ${st_failed:-0} ))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    say "swift test exited with status $status (build error or crash?)"
fi
echo "tests: $passed passed, $failed failed"
exit "$status"
