#!/usr/bin/env bash
# Make .venv hold exactly what a lock says, whatever pip the system ships.
#
#   scripts/python-env.sh runtime|dev
#
# 1. .venv is created with the system's python3 (Debian's lacks ensurepip until
#    python3-venv is installed: then that is installed and the venv made again).
# 2. The installers are bootstrapped from requirements/bootstrap.lock: two wheels
#    (pinned pip and uv), hashes checked, no extras, nothing resolved. Any pip that
#    knows --require-hashes can do that; old pips fail on extras in hash-checking
#    mode (fonttools[woff] from weasyprint), which is why the rest is not theirs to do.
# 3. uv makes the environment equal to the lock (`uv pip sync --require-hashes`:
#    installs, upgrades and removes), then installs the project itself with
#    --no-deps --no-build-isolation (its build backend, setuptools, is in the lock).
#    A package published only as source (jieba) is built with the build backend pinned,
#    with hashes, in requirements/build.lock: nothing is resolved there either.
#
# requirements/dev.lock holds every pin of runtime.lock (same versions) plus the test
# tools, so an environment synced from dev.lock serves `runtime` as well. The
# stamp .venv/.installed records which lock was synced and the hashes of the inputs;
# an unchanged stamp makes this a no-op of a few milliseconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want=${1:?usage: $0 runtime|dev}
case "$want" in runtime|dev) ;; *) echo "usage: $0 runtime|dev" >&2; exit 2 ;; esac

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

digest() {  # the inputs an environment synced from lock $1 depends on
    cat requirements/bootstrap.lock requirements/build.lock "requirements/$1.lock" pyproject.toml |
        sha256sum | cut -c1-16
}

if [ -f "$STAMP" ]; then
    read -r have have_digest <"$STAMP" || true
    if [ "${have:-}" = "$want" ] && [ "$have_digest" = "$(digest "$want")" ]; then exit 0; fi
    if [ "$want" = runtime ] && [ "${have:-}" = dev ] && [ "$have_digest" = "$(digest dev)" ]; then exit 0; fi
fi

# ---- 1. the virtual environment -------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || bash scripts/system-deps.sh python3 python3-venv
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "ERROR: ReportFlow needs Python >= 3.11; '$PYTHON' is: $("$PYTHON" --version 2>&1 || echo 'not found')" >&2
        echo "       Install Python 3.11+ and rerun with PYTHON=/path/to/python3.x (then 'make clean')." >&2
        exit 1
    fi
    echo "Creating $VENV with $("$PYTHON" --version)"
    if ! "$PYTHON" -m venv "$VENV"; then
        echo "'$PYTHON -m venv' failed; installing python3-venv and retrying" >&2
        rm -rf "$VENV"
        bash scripts/system-deps.sh python3-venv
        "$PYTHON" -m venv "$VENV"
    fi
fi

# ---- 2. the installers ----------------------------------------------------------
uv_pinned=$(sed -n 's/^uv==\([^ ;]*\).*/\1/p' requirements/bootstrap.lock)
if [ "$("$VENV/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$uv_pinned" ]; then
    echo "Bootstrapping the pinned installers (requirements/bootstrap.lock: uv $uv_pinned)"
    "$VENV/bin/python" -m pip --disable-pip-version-check install -q \
        --require-hashes --no-deps --only-binary :all: -r requirements/bootstrap.lock
fi

# ---- 3. the environment, exactly ------------------------------------------------
echo "Installing requirements/$want.lock into $VENV"
"$VENV/bin/uv" pip sync -q --python "$VENV/bin/python" --require-hashes \
    --build-constraints requirements/build.lock "requirements/$want.lock"
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --no-deps --no-build-isolation -e .
echo "$want $(digest "$want")" >"$STAMP"
