#!/usr/bin/env bash
# Put the free Fandol fonts (a 仿宋 and a 楷体 with simplified glyphs) into fonts/fandol/,
# taken from Debian's texlive-lang-chinese without installing TeX: the package is only
# downloaded (apt verifies it against the signed archive) and the .otf files are unpacked.
#
#   scripts/free-fonts.sh [DEST]      (default: fonts/fandol next to this script's folder)
#
# The outlines are then made smaller with the project's own Python (app/pdf/straighten.py:
# straight curves become lines; nothing moves by more than 1/1000 em), so run it after
# `make deps`; without .venv the fonts are copied as they are and a later run straightens them.
#
# - Does nothing when the straightened fonts are already there.
# - Not a Debian/Ubuntu system, or the download fails: a warning, exit 0 — the PDFs then use
#   Noto Serif CJK SC for 仿宋 and LXGW WenKai for 楷体 (`flask --app wsgi fonts` says so).
# - SKIP_SYSTEM_DEPS=1 skips it, like scripts/system-deps.sh.
# The fonts are GPL-licensed with the font exception (README and COPYING are copied along).
set -euo pipefail

PACKAGE=texlive-lang-chinese
FONTS=(FandolFang-Regular.otf FandolKai-Regular.otf)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${1:-"$ROOT/fonts/fandol"}
PY="$ROOT/.venv/bin/python"
STAMP="$DEST/.straightened"

warn() { printf 'WARNING: %s\n' "$*" >&2; }

missing=0
for font in "${FONTS[@]}"; do
    [ -s "$DEST/$font" ] || missing=1
done
[ "$missing" = 0 ] && [ -f "$STAMP" ] && exit 0

if [ "${SKIP_SYSTEM_DEPS:-0}" = 1 ]; then
    echo "free-fonts: SKIP_SYSTEM_DEPS=1, not fetching the Fandol fonts"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    warn "no apt-get/dpkg-deb here: the PDFs use Noto Serif for 仿宋 (put FandolFang-Regular.otf into $DEST by hand)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt's download user must be able to write here

download() { (cd "$work" && apt-get -q download "$PACKAGE" >/dev/null 2>&1); }
if ! download; then
    # A fresh machine may have no package lists yet.
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1 || true
    if ! download; then
        warn "could not download $PACKAGE: the PDFs use Noto Serif for 仿宋 and LXGW WenKai for 楷体"
        exit 0
    fi
fi

echo "free-fonts: unpacking the Fandol fonts from $(basename "$work"/"$PACKAGE"_*.deb)"
mkdir -p "$work/x"
dpkg-deb --fsys-tarfile "$work"/"$PACKAGE"_*.deb \
    | tar -x -C "$work/x" --wildcards '*/fonts/opentype/public/fandol/*' '*/doc/*/fonts/fandol/*'
mkdir -p "$DEST"
rm -f "$STAMP"
straightened=1
for font in "${FONTS[@]}"; do
    unpacked=$(find "$work/x" -name "$font" | head -1)
    if [ -x "$PY" ] && (cd "$ROOT" && "$PY" -m app.pdf.straighten "$unpacked" "$DEST/$font.partial"); then
        :
    else
        straightened=0
        install -m 644 "$unpacked" "$DEST/$font.partial"
    fi
    chmod 644 "$DEST/$font.partial"
    mv "$DEST/$font.partial" "$DEST/$font"
done
find "$work/x" -path '*/doc/*fandol/*' -type f -exec install -m 644 {} "$DEST/" \;
if [ "$straightened" = 1 ]; then
    touch "$STAMP"
    echo "free-fonts: ${FONTS[*]} in $DEST"
else
    warn "the Fandol fonts in $DEST are not straightened (no .venv yet): PDFs are ~20 % larger until \`make fonts\` runs again after \`make deps\`"
fi
