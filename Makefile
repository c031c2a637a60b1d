# Kail — the two commands: `make run` (demo on http://127.0.0.1:5000) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app webapp
PORT ?= 5000
DEMO_MODE ?= 1
export DEMO_MODE

.PHONY: run test serve migrate seed translations lint screenshots clean help

help:
	@echo "make run    install, migrate, load demo data when empty, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   install dev dependencies, run ruff check, then the whole test suite"
	@echo "make lint   ruff check and ruff format --check"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Kail needs Python 3.11+"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile --use-fuzzy -d webapp/translations >/dev/null

migrate: $(VENV)/.installed
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

run: translations seed
	@echo
	@echo "  Kail runs on http://127.0.0.1:$(PORT)  (Ctrl+C stops it)"
	@echo "  Demo logins, password 'kail-demo': admin, koordinator1..koordinator10, pendamping1..pendamping30"
	@echo
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed translations
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

screenshots: $(VENV)/.installed
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .tmp
