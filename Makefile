# The two commands a newcomer needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Serve the API and the dispatcher on embedded defaults: SQLite file ./broadcaster.db and the
# shipped example practices, whose messages land in ./outbox/ (no credentials needed).
run: install
	$(BIN)/broadcaster --log-level info serve

# What CI runs: lint, types, the shipped runbooks, then every test against real local servers.
test: install-test lint
	$(BIN)/broadcaster runbooks check
	$(BIN)/pytest -q

LINTED := broadcaster channels tests $(wildcard bench)

lint:
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) outbox broadcaster.db*
