#!/usr/bin/env bash
# Installs the Debian packages Plexus builds and tests with:
#   mosquitto, mosquitto-clients  the real broker and CLIs the test harness drives
#   openssl                       test certificates (PlexusTesting.TestCertificates)
#   libssl-dev, libsqlite3-dev, libcurl4-openssl-dev   C libraries for the Swift build
#                                 (libsqlite3-dev: GRDB links the system SQLite for PlexusMemory)
#   sqlite3                       the SQLite CLI: inspecting memory files, the memory benchmark's peer
#
# Idempotent and fast when nothing is missing: one dpkg-query call, no apt at all.
# `apt-get update` runs only when a package has to be installed.
# Works as root (CI) or through sudo.
#
# The system mosquitto service is never left running: the harness starts private brokers on
# free ports, and a system broker on 1883 would only hide tests that forget to use them.
set -euo pipefail

PACKAGES=(mosquitto mosquitto-clients openssl libssl-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev)

say() { echo "[install-deps] $*"; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=(__need_root__)
fi

# One dpkg-query for all packages; unknown packages print nothing and count as missing.
installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)"
missing=()
for package in "${PACKAGES[@]}"; do
    if ! grep -qx "$package installed" <<<"$installed"; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    say "all packages present: ${PACKAGES[*]}"
else
    if [ "${SUDO[0]:-}" = "__need_root__" ]; then
        say "missing ${missing[*]}; run this script as root or install sudo" >&2
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep Debian's maintainer scripts from starting the mosquitto service during the install
    # (a policy-rc.d that exits 101 means "do not start"). Only if there is none already.
    policy_installed=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
        policy_installed=1
    fi
    remove_policy() {
        if [ "$policy_installed" -eq 1 ]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi
    }
    trap remove_policy EXIT
    say "apt-get update"
    "${SUDO[@]}" apt-get update -qq -o DPkg::Lock::Timeout=300
    say "apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" \
        >/tmp/plexus-apt-install.log 2>&1 || {
        tail -n 50 /tmp/plexus-apt-install.log >&2
        exit 1
    }
    remove_policy
    trap - EXIT
fi

# Stop a system broker if one runs anyway (started by hand or by an init system).
if pgrep -x mosquitto >/dev/null 2>&1; then
    for pid in $(pgrep -x mosquitto); do
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '/etc/mosquitto/'; then
            say "stopping the system mosquitto service (pid $pid); tests start their own brokers"
            if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
                "${SUDO[@]}" systemctl stop mosquitto || true
                "${SUDO[@]}" systemctl disable mosquitto >/dev/null 2>&1 || true
            elif command -v service >/dev/null 2>&1; then
                "${SUDO[@]}" service mosquitto stop || true
            fi
            if kill -0 "$pid" 2>/dev/null; then "${SUDO[@]}" kill "$pid" || true; fi
        fi
    done
fi

for tool in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd openssl; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        say "$tool still not found after install" >&2
        exit 1
    fi
done
say "done"
