# regie — the two commands are `make demo` and `make test` (see README.md).
# Needs only Python 3.11+, make and git: everything else comes from the lock file.
# PYTHON=python3.12 chooses the Python when the default python3 is older.

PYTHON ?= python3
# The demo's port; the demo suppliers use the next two, the log's demo witness the one after
# (make demo PORT=8100: 8100, 8101, 8102, 8103).
PORT ?= 8000
UV_VERSION := 0.9.9
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install browser demo test gates format openapi nlds benchmarks screenshots clean

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "regie needs Python 3.11 or newer, and $(PYTHON) is" \
	       "$$($(PYTHON) --version 2>/dev/null || echo 'not found'): choose another, for instance" \
	       "make $(or $(firstword $(MAKECMDGOALS)),demo) PYTHON=python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium (never a downloaded browser): install it when missing.
CHROMIUM ?= $(or $(REGIE_CHROMIUM),/usr/bin/chromium)
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      --no-install-recommends chromium fonts-liberation; \
	  else \
	    echo "The browser tests need Chromium: install Debian's chromium package" \
	         "(sudo apt-get install chromium) or set REGIE_CHROMIUM." >&2; exit 1; \
	  fi; \
	fi

## Install everything and start the demo on http://127.0.0.1:$(PORT) (SQLite, demo data).
demo: install
	$(VENV)/bin/regie demo --port $(PORT)

## Install everything and run every test (SQLite by default; DATABASE_URL selects PostgreSQL).
test: install browser
	$(VENV)/bin/pytest -n auto --dist loadgroup

## The gates CI runs besides the tests.
gates: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/regie makemigrations --check --dry-run
	$(VENV)/bin/regie openapi --check

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

openapi: install
	$(VENV)/bin/regie openapi

## Refresh the vendored NL Design System style sheets from npm at the pinned versions (needs npm).
nlds: install
	$(VENV)/bin/python -m regie.core.nlds

benchmarks: install
	$(VENV)/bin/python -m benchmarks

## Screenshots of every role's main pages at 1280 and 390 px into docs/screenshots/ (the demo).
screenshots: install browser
	$(VENV)/bin/python -m regie.ops.screenshots docs/screenshots

clean:
	rm -rf $(TOOLS) $(VENV) var/demo
