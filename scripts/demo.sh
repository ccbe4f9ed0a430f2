#!/usr/bin/env bash
# `make run`'s last step: the smart-home deployment (agents/smart-home.yaml) in the
# foreground: `plexus run` starts a private Mosquitto with a login per agent and the local
# model, then the six agents. Once they are online this prints what to try in a second
# terminal. Ctrl-C (or SIGTERM) stops the runtime, which stops the broker and the model server.
#   PLEXUS_BIN=path/to/plexus scripts/demo.sh     another build of the CLI
#   PLEXUS_MANIFEST=agents/factory.yaml scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plexus="${PLEXUS_BIN:-.build/release/plexus}"
manifest="${PLEXUS_MANIFEST:-agents/smart-home.yaml}"
[ -x "$plexus" ] || { echo "demo: $plexus is missing: run 'make run' (it builds it)" >&2; exit 1; }

say() { echo "==> [run] $*" >&2; }

# The runtime's notes go to the terminal and to a log the readiness check reads.
log="$(mktemp "${TMPDIR:-/tmp}/plexus-run.XXXXXX")"
runtime=""
stop() {
    trap - INT TERM
    if [ -n "$runtime" ] && kill -0 "$runtime" 2>/dev/null; then
        say "stopping the runtime (and with it the broker and the model server)"
        kill -TERM "$runtime" 2>/dev/null || true
        wait "$runtime" 2>/dev/null || true
    fi
    rm -f "$log"
    exit 0
}
trap stop INT TERM

agents="$(grep -c '^  - id: ' "$manifest")"
say "$plexus run $manifest: a private Mosquitto, the local model, then $agents agents (the model takes a minute the first time)"
"$plexus" run "$manifest" 2> >(tee "$log" >&2) &
runtime=$!

seconds=0
until grep -q "running $agents agents" "$log" 2>/dev/null; do
    if ! kill -0 "$runtime" 2>/dev/null; then
        wait "$runtime" && status=0 || status=$?
        rm -f "$log"
        echo "demo: plexus run ended (status $status) before its agents ran; see its messages above" >&2
        exit "$status"
    fi
    sleep 1
    seconds=$((seconds + 1))
    [ $((seconds % 15)) -eq 0 ] && say "still starting after ${seconds}s…"
done
# The runtime prints the note as it starts the agents; their cards follow within a moment.
for _ in $(seq 30); do
    online="$("$plexus" agents --json 2>/dev/null | grep -c '"online"' || true)"
    [ "$online" -ge "$agents" ] && break
    sleep 1
done
"$plexus" agents >&2 || true

cat >&2 <<INFO

==> [run] $agents agents are online. In a second terminal, in $(pwd):
      $plexus tail                 # the agents' dialogue, live
      $plexus pub --as alice -q 1 -t home/proposals \\
          -m '{"actuator":"front_door","command":{"locked":false},"reason":"the courier is here"}'
      $plexus approvals            # the unlock waits for the household (2 minutes, then denied)
      $plexus approve ID --as alice
      $plexus sub -t home/front-door/lock/set -v   # the command, once approved
==> [run] Ctrl-C here stops everything.

INFO
wait "$runtime" && status=0 || status=$?
rm -f "$log"
exit "$status"
