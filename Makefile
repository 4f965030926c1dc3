# regie — the two commands are `make demo` and `make test` (see README.md).
# Needs only Python 3.11+, make and git: everything else comes from the lock file.

PYTHON ?= python3
UV_VERSION := 0.9.9
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test gates format openapi benchmarks clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

## Install everything and start the demo on http://127.0.0.1:8000 (SQLite, demo data).
demo: install
	$(VENV)/bin/regie demo

## Install everything and run every test (SQLite by default; DATABASE_URL selects PostgreSQL).
test: install
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

benchmarks: install
	$(VENV)/bin/python -m benchmarks

clean:
	rm -rf $(TOOLS) $(VENV) var/demo
