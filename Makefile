# Two commands on a fresh machine with Python 3.11+:  make run   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run once test lint lock container-test bench clean

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

# The packages the container image installs, pinned with their hashes. Run it after any
# change to the dependencies in pyproject.toml (the tests fail until the lock agrees);
# pins already in the file are kept: LOCK_FLAGS=--upgrade moves all to their newest.
lock: $(BIN)/.installed  ## write requirements.lock from pyproject.toml (needs the package index)
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	| $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	  --extra postgres --custom-compile-command 'make lock' $(LOCK_FLAGS) -o requirements.lock pyproject.toml -

container-test: $(BIN)/.installed  ## build the image and run it as an operator would (podman)
	.ci/container-setup
	$(BIN)/pytest -m container

clean:
	rm -rf $(VENV) data feeds/*.xml feeds/*.json feeds/*.ics feeds/*.html
