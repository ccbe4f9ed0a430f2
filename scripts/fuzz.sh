#!/usr/bin/env bash
# Fuzzes the MQTT packet decoder with libFuzzer (+ AddressSanitizer).
#
#   scripts/fuzz.sh [SECONDS]      (default 60)
#
# Builds PlexusMQTTFuzzer with -sanitize=fuzzer,address into .build-fuzz/, seeds
# from Fuzz/corpus/ (committed), keeps new inputs in Fuzz/corpus-run/ and crash
# artifacts in Fuzz/artifacts/ (both git-ignored). Exits non-zero on a finding;
# replay one in a normal build with `swift run PlexusMQTTFuzzer Fuzz/artifacts/crash-…`.
# Regenerate the seeds after model changes with
# `swift run PlexusMQTTFuzzer --write-corpus Fuzz/corpus`.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

swift build -c release --product PlexusMQTTFuzzer --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -parse-as-library \
    -Xswiftc -DPLEXUS_FUZZING

binary="$(swift build -c release --product PlexusMQTTFuzzer --scratch-path .build-fuzz --show-bin-path)/PlexusMQTTFuzzer"
mkdir -p Fuzz/corpus-run Fuzz/artifacts

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# -rss_limit_mb bounds memory, -timeout flags any input taking over 10 s (a hang),
# -max_len lets inputs grow past the 4 KiB default so large remaining lengths occur.
"$binary" Fuzz/corpus-run Fuzz/corpus \
    -max_total_time="$seconds" \
    -max_len=16384 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -artifact_prefix=Fuzz/artifacts/ \
    -print_final_stats=1 2>&1 | tee "$log" | grep -E '^#[0-9]+ +(INITED|DONE|pulse)|ERROR|SUMMARY|crash-|timeout-|oom-|Precondition|Fatal' || true
status="${PIPESTATUS[0]}"

executions="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)"
echo "fuzz: ${executions} executions in ${seconds}s, exit status ${status}"
if [ "$status" -ne 0 ]; then
    echo "fuzz: FAILED, see Fuzz/artifacts/" >&2
    tail -n 60 "$log" >&2
    exit "$status"
fi
