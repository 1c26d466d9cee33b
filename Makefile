# The two commands that matter: `make run` and `make test` (see README.md).
# Every target sets up what it needs first, so both work on a fresh clone.
PY311 ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps assets bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PY311) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Front-end packages from npm (nhsuk-frontend, Chart.js, axe-core), served from web/static/vendor.
ASSETS := web/static/vendor/.installed
$(ASSETS): package.json
	npm install --no-audit --no-fund --silent
	mkdir -p web/static/vendor
	cp -r node_modules/nhsuk-frontend/dist web/static/vendor/nhsuk-frontend
	cp node_modules/chart.js/dist/chart.umd.min.js web/static/vendor/chart.umd.min.js
	cp node_modules/axe-core/axe.min.js web/static/vendor/axe.min.js
	touch $(ASSETS)

assets: $(ASSETS)

# Debian's chromium for the browser tests (needs root; a no-op when present).
system-deps:
	scripts/install_system_deps.sh

setup: $(STAMP) $(ASSETS)

test: setup system-deps
	$(BIN)/python -m pytest -q

run: setup
	$(BIN)/spoa demo

bench: setup
	$(BIN)/python bench/bench_decide.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
