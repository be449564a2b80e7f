#!/usr/bin/env bash
# Install Debian packages that are missing; do nothing when all are present.
#
#   scripts/system-deps.sh PKG...
#
# - Asks dpkg first, so `apt-get update` only runs when something is missing.
# - Uses sudo when not root; with neither root nor sudo it prints a warning
#   and exits 0 (the caller goes on; tests that need the package will say so).
# - Not a Debian/Ubuntu system (no dpkg-query/apt-get): warning, exit 0.
# - SKIP_SYSTEM_DEPS=1 skips all of it.
# - A failing apt-get is an error: a half-installed machine is worse to debug.
set -euo pipefail

warn() { printf 'WARNING: %s\n' "$*" >&2; }

[ "$#" -gt 0 ] || { echo "usage: $0 PKG..." >&2; exit 2; }

if [ "${SKIP_SYSTEM_DEPS:-0}" = 1 ]; then
    echo "system-deps: SKIP_SYSTEM_DEPS=1, not checking: $*"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    warn "no dpkg/apt-get here; install these yourself if missing: $*"
    exit 0
fi

# `dpkg -s` succeeds for removed-but-not-purged packages too, so read the status.
missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    warn "not root and no sudo: cannot install ${missing[*]}"
    warn "install them by hand: apt-get install ${missing[*]}"
    exit 0
fi

echo "system-deps: installing ${missing[*]}"
# Wait for another apt/dpkg (e.g. unattended-upgrades) instead of failing at once.
# env: sudo drops DEBIAN_FRONTEND from the environment otherwise.
apt=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
if ! "${apt[@]}" update || ! "${apt[@]}" install -y "${missing[@]}"; then
    echo "ERROR: could not install system packages: ${missing[*]}" >&2
    echo "       install them by hand, or rerun with SKIP_SYSTEM_DEPS=1 to go on without them." >&2
    exit 1
fi
