# Two commands on a fresh machine with Python 3.11+:  make run   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run once test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

run: $(BIN)/.installed  ## run the worker on the embedded defaults (SQLite, port 8080)
	$(BIN)/worker run

once: $(BIN)/.installed  ## one cycle, then exit
	$(BIN)/worker once

test: $(BIN)/.installed  ## the whole test suite
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check worker tests bench
	$(BIN)/mypy worker

clean:
	rm -rf $(VENV) data feeds/*.xml feeds/*.json feeds/*.ics feeds/*.html
