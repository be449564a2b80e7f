#!/bin/sh
# Regenerates the .docx fixtures beside this script from their sources with LibreOffice.
# Needs LibreOffice (Debian: apt-get install --no-install-recommends libreoffice-writer-nogui);
# the tests only read the .docx files, so CI never runs this.
set -e
cd "$(dirname "$0")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
for source in *.html *.fodt; do
    soffice -env:UserInstallation="file://$profile" --headless \
        --convert-to 'docx:MS Word 2007 XML' "$source" >/dev/null
done
