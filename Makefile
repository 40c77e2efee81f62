# osseo-mdt: `make run` serves the demo, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: install run run-stack test lint format lock bench

$(STAMP): requirements/dev.txt requirements/base.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $(STAMP)

install: $(STAMP)

## Embedded service on http://127.0.0.1:8000 (SQLite, in-process tasks, console email).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "  Admin:    http://127.0.0.1:8000/admin/"
	@echo "  API:      http://127.0.0.1:8000/api/v1/"
	@echo "  API docs: http://127.0.0.1:8000/api/v1/docs/"
	@echo
	$(PY) manage.py runserver 127.0.0.1:8000

## Production-shaped stack: gunicorn + Celery worker + beat (needs DATABASE_URL, CELERY_BROKER_URL).
run-stack: install
	@test -n "$$DATABASE_URL" || (echo "set DATABASE_URL (PostgreSQL)"; exit 2)
	@test -n "$$CELERY_BROKER_URL" || (echo "set CELERY_BROKER_URL (Redis)"; exit 2)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/honcho start -f Procfile

## Lint, format check, type check, then the test suite.
test: install
	bash scripts/test.sh

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Benchmark at national-network scale against a hand-written-SQL floor (PostgreSQL at
## BENCH_DATABASE_URL; creates and fills the databases when absent). README: Benchmark.
bench: install
	$(PY) -m bench

## Recompile the pinned requirements from requirements/*.in.
lock:
	$(PYTHON) -m pip install --quiet uv
	cd requirements && $(PYTHON) -m uv pip compile --python-version 3.11 base.in -o base.txt
	cd requirements && $(PYTHON) -m uv pip compile --python-version 3.11 dev.in -o dev.txt
