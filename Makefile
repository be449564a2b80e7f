# ReportFlow build & run.
#
#   make run    set up (system packages, free fonts, .venv, dependencies, database, demo data)
#               and serve
#   make test   set up (plus Chromium and the PDF engines for browser/PDF tests) and run pytest
#
# Both start from a fresh Debian machine; a stamp in .venv/ makes repeated runs fast.

# bash with -e/pipefail so a failing step in a multi-line recipe stops the build.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Setup steps share apt and .venv; running them side by side under -j would race.
.NOTPARALLEL:

PYTHON      ?= python3
PORT        ?= 5000
PYTEST_ARGS ?=
# e.g. `make lock LOCK_ARGS=--upgrade` to move every pin to the newest allowed release.
LOCK_ARGS   ?=

VENV  := .venv
BIN   := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

# Debian packages. Fonts: the UI and reports are Chinese, so pages and PDFs need CJK fonts.
# WeasyPrint renders PDFs through Pango/HarfBuzz/fontconfig (hb-subset keeps subsetting fast).
RUN_SYSTEM_PACKAGES  := fonts-noto-cjk fonts-lxgw-wenkai fontconfig libpango-1.0-0 \
                        libpangoft2-1.0-0 libharfbuzz-subset0
# Tests also drive Debian's Chromium through Playwright (Playwright cannot download its
# own browser here), read generated PDFs with poppler's pdftotext/pdftoppm, and draw every
# kind of PDF with Ghostscript and MuPDF too (PDFium comes from PyPI), checked by qpdf.
# libatomic1: Playwright's bundled node driver links against it, and a minimal Debian
# lacks it (seen: "libatomic.so.1: cannot open shared object file").
TEST_SYSTEM_PACKAGES := $(RUN_SYSTEM_PACKAGES) chromium poppler-utils libatomic1 \
                        ghostscript mupdf-tools qpdf

# Only directories that exist: ruff fails on a missing path.
LINT_PATHS := $(wildcard app tests bench)

.PHONY: help run test lint fmt lock deps deps-dev sysdeps-run sysdeps-test fonts clean

help:
	@echo "make run     set everything up, migrate, seed demo data, serve on 127.0.0.1:\$$PORT (default 5000)"
	@echo "make test    set everything up and run pytest (extra args: PYTEST_ARGS='-k foo')"
	@echo "make lint    ruff check + ruff format --check"
	@echo "make fmt     ruff --fix + ruff format"
	@echo "make lock    regenerate requirements/*.lock from pyproject.toml (LOCK_ARGS=--upgrade to bump)"
	@echo "make deps    only create .venv and install requirements/runtime.lock (deps-dev: dev.lock)"
	@echo "make fonts   only unpack the free Fandol fonts (仿宋, 楷体) into fonts/fandol (after make deps)"
	@echo "make clean   remove .venv and caches (keeps instance/, i.e. the dev database)"

## ---- the two main commands -------------------------------------------------

run: sysdeps-run deps fonts
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	exec $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: sysdeps-test deps-dev fonts
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## ---- system packages -------------------------------------------------------
# Always run: the script asks dpkg first (milliseconds) and only calls apt-get
# (update + install) when something is missing.

sysdeps-run:
	@bash scripts/system-deps.sh $(RUN_SYSTEM_PACKAGES)

sysdeps-test:
	@bash scripts/system-deps.sh $(TEST_SYSTEM_PACKAGES)

# FandolFang (仿宋) and FandolKai (楷体) from Debian's texlive-lang-chinese, downloaded and
# unpacked into fonts/fandol without installing TeX, their outlines made smaller with .venv's
# Python (so after deps); a no-op once they are there.
fonts:
	@bash scripts/free-fonts.sh

## ---- Python environment ----------------------------------------------------
# scripts/python-env.sh creates .venv, bootstraps the pinned installers from
# requirements/bootstrap.lock with whatever pip the system has, then syncs the lock
# exactly with uv (hashes required, nothing resolved). It is a no-op when its stamp
# says the lock is already installed, so these always run.

deps:
	@PYTHON=$(PYTHON) bash scripts/python-env.sh runtime

deps-dev:
	@PYTHON=$(PYTHON) bash scripts/python-env.sh dev

# The locks, from pyproject.toml, with the uv pinned in bootstrap.lock. Universal
# resolution: one file for Python 3.11+ on any OS/arch (markers for the rest). uv keeps
# the pins already in its output file unless asked to --upgrade; dev.lock is held to
# runtime.lock's pins so that tests run on exactly what production installs.
LOCK_UV   = $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes \
            --custom-compile-command 'make lock' -q $(LOCK_ARGS)
lock: deps
	$(LOCK_UV) requirements/bootstrap.in -o requirements/bootstrap.lock
	$(LOCK_UV) pyproject.toml requirements/build.in -o requirements/runtime.lock
	$(LOCK_UV) pyproject.toml requirements/build.in --extra dev -c requirements/runtime.lock \
	    -o requirements/dev.lock
	$(LOCK_UV) requirements/build.in -c requirements/runtime.lock -o requirements/build.lock
	@git status --short requirements/ 2>/dev/null || true

## ---- code quality ----------------------------------------------------------

# Run both checks even when the first fails, so one pass shows every problem.
lint: deps-dev
	@rc=0; \
	$(BIN)/ruff check $(LINT_PATHS) || rc=1; \
	$(BIN)/ruff format --check $(LINT_PATHS) || rc=1; \
	exit $$rc

fmt: deps-dev
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

## ---- housekeeping ----------------------------------------------------------

# instance/ (the dev SQLite database) is kept on purpose; delete it by hand to start over.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info test-artifacts .stamp-* fonts
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
