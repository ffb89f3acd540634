# socialclusters — the commands of the README's Quick start and a few more.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test test-postgres lint messages bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## Install, build the demo database (reference data, real organisations and clusters) and serve it.
demo: install
	$(BIN)/socialclusters demo
	$(BIN)/socialclusters serve $(HOST):$(PORT)

serve: install
	$(BIN)/socialclusters serve $(HOST):$(PORT)

## The whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL).
test: install
	$(BIN)/pytest

test-postgres: install
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(BIN)/pytest

lint: install
	$(BIN)/ruff check src benchmarks
	$(BIN)/mypy src

## Recompile the translations after editing a .po file (needs GNU gettext's msgfmt).
messages: install
	cd src/socialclusters && ../../$(BIN)/socialclusters makemessages -l fr --no-obsolete && ../../$(BIN)/socialclusters compilemessages

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var
