#!/usr/bin/env bash
# Creates (or refreshes) the Python virtual environment used by interoperability tests
# (paho-mqtt peers), outside the repository so clones and `make clean` keep it:
#   ${PLEXUS_CACHE:-$HOME/.cache/plexus}/venv
#
# Packages come from scripts/requirements-test.txt. They are reinstalled only when that file's
# hash changes (stamp file inside the venv), so a warm run is a few file reads.
#
# The last line printed is the venv's python path:
#   export PLEXUS_PYTHON="$(scripts/python-env.sh | tail -n 1)"
# (The Makefile computes the same path itself and exports it to `swift test`.)
set -euo pipefail

say() { echo "[python-env] $*"; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$script_dir/requirements-test.txt"
cache="${PLEXUS_CACHE:-$HOME/.cache/plexus}"
venv="$cache/venv"
python="$venv/bin/python"
stamp="$venv/.plexus-requirements.sha256"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"

if [ -x "$python" ] && [ "$want" = "$have" ] && "$python" -c '' 2>/dev/null; then
    say "up to date: $venv"
else
    base_python="${PLEXUS_BASE_PYTHON:-$(command -v python3 || true)}"
    if [ -z "$base_python" ]; then
        say "python3 not found" >&2
        exit 1
    fi
    if [ ! -x "$python" ] || ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        if ! "$base_python" -c 'import ensurepip, venv' 2>/dev/null; then
            # Debian's python3 ships venv/ensurepip separately.
            say "installing python3-venv"
            if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
            "${sudo_cmd[@]}" apt-get update -qq -o DPkg::Lock::Timeout=300
            DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
        fi
        say "creating $venv with $base_python"
        rm -rf "$venv"
        mkdir -p "$cache"
        "$base_python" -m venv "$venv"
    fi
    say "installing $(grep -cv '^\s*\(#\|$\)' "$requirements") requirement(s) from $requirements"
    "$python" -m pip install --disable-pip-version-check --no-input -q -r "$requirements"
    echo "$want" >"$stamp"
    say "installed: $("$python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
fi

echo "$python"
