# ReportFlow build & run.
#
#   make run    set up (system packages, .venv, dependencies, database, demo data) and serve
#   make test   set up (plus Chromium and poppler for browser/PDF tests) and run pytest
#
# Both start from a fresh Debian machine; stamp files in .venv/ make repeated runs fast.

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
PIP   := $(BIN)/python -m pip --disable-pip-version-check

# Debian packages. Fonts: the UI and reports are Chinese, so pages and PDFs need CJK fonts.
# WeasyPrint renders PDFs through Pango/HarfBuzz/fontconfig (hb-subset keeps subsetting fast).
RUN_SYSTEM_PACKAGES  := fonts-noto-cjk fonts-lxgw-wenkai fontconfig libpango-1.0-0 \
                        libpangoft2-1.0-0 libharfbuzz-subset0
# Tests also drive Debian's Chromium through Playwright (Playwright cannot download its
# own browser here) and read generated PDFs with poppler's pdftotext/pdftoppm.
# libatomic1: Playwright's bundled node driver links against it, and a minimal Debian
# lacks it (seen: "libatomic.so.1: cannot open shared object file").
TEST_SYSTEM_PACKAGES := $(RUN_SYSTEM_PACKAGES) chromium poppler-utils libatomic1

# Only directories that exist: ruff fails on a missing path.
LINT_PATHS := $(wildcard app tests bench)

.PHONY: help run test lint fmt lock deps venv sysdeps-run sysdeps-test clean

help:
	@echo "make run     set everything up, migrate, seed demo data, serve on 127.0.0.1:\$$PORT (default 5000)"
	@echo "make test    set everything up and run pytest (extra args: PYTEST_ARGS='-k foo')"
	@echo "make lint    ruff check + ruff format --check"
	@echo "make fmt     ruff --fix + ruff format"
	@echo "make lock    regenerate requirements.lock from pyproject.toml (LOCK_ARGS=--upgrade to bump)"
	@echo "make deps    only create .venv and install the locked dependencies"
	@echo "make clean   remove .venv and caches (keeps instance/, i.e. the dev database)"

## ---- the two main commands -------------------------------------------------

run: sysdeps-run deps
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	exec $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: sysdeps-test deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## ---- system packages -------------------------------------------------------
# Always run: the script asks dpkg first (milliseconds) and only calls apt-get
# (update + install) when something is missing.

sysdeps-run:
	@bash scripts/system-deps.sh $(RUN_SYSTEM_PACKAGES)

sysdeps-test:
	@bash scripts/system-deps.sh $(TEST_SYSTEM_PACKAGES)

## ---- Python environment ----------------------------------------------------

venv: $(VENV)/.stamp-venv
deps: $(VENV)/.stamp-deps

# 1. python3 itself may be missing on a minimal Debian: install it.
# 2. Refuse an old Python with a clear message instead of a confusing pip error later.
# 3. Debian's python3 lacks ensurepip until python3-venv is installed, so `-m venv`
#    fails there; install it and try again.
$(VENV)/.stamp-venv:
	@command -v $(PYTHON) >/dev/null 2>&1 || bash scripts/system-deps.sh python3 python3-venv
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	    echo "ERROR: ReportFlow needs Python >= 3.11; '$(PYTHON)' is: $$($(PYTHON) --version 2>&1 || echo 'not found')" >&2; \
	    echo "       Install Python 3.11+ and rerun with PYTHON=/path/to/python3.x (then 'make clean' if .venv is stale)." >&2; \
	    exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV) || { \
	    echo "'$(PYTHON) -m venv' failed; installing python3-venv and retrying" >&2; \
	    rm -rf $(VENV); \
	    bash scripts/system-deps.sh python3-venv; \
	    $(PYTHON) -m venv $(VENV); }
	@touch $@

# Exact pins with hashes from the lock, then the project itself without letting pip
# resolve anything else. Redone when the lock or pyproject.toml changes.
$(VENV)/.stamp-deps: requirements.lock pyproject.toml $(VENV)/.stamp-venv
	@echo "Installing locked dependencies into $(VENV) (about 15 s from scratch)..."
	$(PIP) install -q --require-hashes -r requirements.lock
	$(PIP) install -q --no-deps -e .
	@touch $@

# Universal resolution: one file for Python 3.11+ on any OS/arch (markers for the rest).
# uv keeps the pins already in its output file unless asked to --upgrade; compiling into
# a copy and replacing only on change leaves the .stamp-deps of an unchanged lock valid.
lock: $(VENV)/.stamp-venv
	@test -x $(BIN)/uv || $(PIP) install -q uv
	@if [ -f requirements.lock ]; then cp requirements.lock $(VENV)/requirements.lock.new; fi
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	    --generate-hashes --custom-compile-command 'make lock' -q \
	    -o $(VENV)/requirements.lock.new $(LOCK_ARGS)
	@if cmp -s $(VENV)/requirements.lock.new requirements.lock; then \
	    rm $(VENV)/requirements.lock.new; echo "requirements.lock: unchanged"; \
	else \
	    mv $(VENV)/requirements.lock.new requirements.lock; echo "requirements.lock: updated"; \
	fi

## ---- code quality ----------------------------------------------------------

# Run both checks even when the first fails, so one pass shows every problem.
lint: deps
	@rc=0; \
	$(BIN)/ruff check $(LINT_PATHS) || rc=1; \
	$(BIN)/ruff format --check $(LINT_PATHS) || rc=1; \
	exit $$rc

fmt: deps
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

## ---- housekeeping ----------------------------------------------------------

# instance/ (the dev SQLite database) is kept on purpose; delete it by hand to start over.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info test-artifacts .stamp-*
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
