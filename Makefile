# The two commands that matter: `make run` and `make test` (see README.md).
# Every target sets up what it needs first, so both work on a fresh clone.
PY311 ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PY311) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

run: setup
	$(BIN)/spoa demo

bench: setup
	$(BIN)/python bench/bench_decide.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
