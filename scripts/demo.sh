#!/usr/bin/env bash
# The current demo: a private Mosquitto on a free loopback port, sample sensor traffic
# published by `plexus pub`, and `plexus sub` showing it live, until Ctrl-C.
# (The agent deployment of docs/DESIGN.md replaces this as the runtime lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
plexus="${PLEXUS_BIN:-.build/release/plexus}"
[ -x "$plexus" ] || { echo "demo: $plexus is missing: run 'make run' (it builds it)" >&2; exit 1; }

state="$(mktemp -d "${TMPDIR:-/tmp}/plexus-demo.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
{
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous true"
    [ "$(id -u)" = 0 ] && echo "user root"
} >"$state/mosquitto.conf"
mosquitto -c "$state/mosquitto.conf" >"$state/mosquitto.log" 2>&1 &
broker=$!
publisher=""
cleanup() {
    [ -n "$publisher" ] && kill "$publisher" 2>/dev/null || true
    kill "$broker" 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT INT TERM
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

cat <<INFO
==> Private Mosquitto on mqtt://127.0.0.1:$port (stopped when this exits)
==> In another terminal, try:
      $plexus sub -p $port -t 'demo/#' -v
      $plexus pub -p $port -t demo/hall/setpoint -m 21 -q 1 -D publish user-property who you
==> Live traffic below (plexus sub --json); Ctrl-C to stop.
INFO

(
    temperature=20.0
    while true; do
        temperature="$(awk -v t="$temperature" 'BEGIN { srand(); printf "%.1f", t + (rand() - 0.5) }')"
        "$plexus" pub -p "$port" -q 1 -t demo/hall/temperature -m "$temperature" \
            -D publish content-type text/plain -D publish user-property unit C --quiet
        "$plexus" pub -p "$port" -t demo/hall/motion -m "$(( RANDOM % 2 ))" --quiet
        sleep 1
    done
) &
publisher=$!
"$plexus" sub -p "$port" -t 'demo/#' --json
