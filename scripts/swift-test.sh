#!/usr/bin/env bash
# Runs `swift test` with its output (including the summary lines, which Swift Testing writes to
# stderr) on stdout, then fails if any test broker outlived the test process.
#
# The brokers of this run live under a private TMPDIR, so the leak check cannot confuse them
# with brokers of another test run on the same machine.
set -euo pipefail

say() { echo "[swift-test] $*"; }

run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/plexus-test-run.XXXXXX")"
status=0
TMPDIR="$run_tmp" swift test "$@" 2>&1 || status=$?

# A broker's command line is `mosquitto -c $TMPDIR/plexus-testing/mosquitto-XXXXXX/mosquitto.conf`.
leaked=()
for pid in $(pgrep -x mosquitto || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$run_tmp/"; then
        leaked+=("$pid")
    fi
done
if [ "${#leaked[@]}" -gt 0 ]; then
    say "LEAKED test brokers after swift test: ${leaked[*]}" >&2
    ps -o pid,ppid,etime,args -p "$(IFS=,; echo "${leaked[*]}")" >&2 || true
    kill -9 "${leaked[@]}" 2>/dev/null || true
    [ "$status" -ne 0 ] || status=1
else
    say "no test broker outlived the test run"
fi
rm -rf "$run_tmp"
exit "$status"
