# The two commands that matter: `make run` and `make test` (see README.md).
# Every target sets up what it needs first, so both work on a fresh clone.
PY311 ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: safety run test load setup system-deps assets bench bench-api bench-console clean rasa-setup rasa-train evaluate evaluate-extraction evaluate-dialogue

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

# The Rasa assistant: its own Python 3.10 environment (.venv-rasa), and a model trained only
# when it is missing or its data changed (scripts/rasa_train.sh keeps a hash stamp).
RASA_STAMP := .venv-rasa/.installed
$(RASA_STAMP): assistant/requirements.txt assistant/constraints.txt
	scripts/rasa_setup.sh

rasa-setup: $(RASA_STAMP)

rasa-train: rasa-setup
	scripts/rasa_train.sh

# The run's JUnit XML (reports/junit.xml) is the evidence `spoa safety report` reads.
test: setup system-deps rasa-train
	@mkdir -p reports
	$(BIN)/python -m pytest -q --junitxml=reports/junit.xml

# The clinical safety case (DCB0129): the whole suite with JUnit output, then the report from
# docs/safety/hazards.yml and that run (reports/safety/safety-case.md and .html). The report is
# written even when tests fail (it shows them); the target then fails with the tests.
safety: setup system-deps rasa-train
	@mkdir -p reports
	$(BIN)/python -m pytest -q --junitxml=reports/junit.xml; status=$$?; \
		$(BIN)/spoa safety report --junit reports/junit.xml --out reports/safety && exit $$status

# The web app (gunicorn, WEB_CONCURRENCY workers x SPOA_THREADS threads), its dialogue API
# for the actions, the Rasa server and the action server together (Procfile, honcho). The
# demo logins are seeded by an explicit step, only into an empty database, and printed once;
# `spoa serve` itself never seeds. The app and the action server share a service token:
# yours from the environment, or a fresh one.
run: setup rasa-train
	@$(BIN)/spoa demo --if-empty
	@SPOA_SERVICE_TOKEN="$${SPOA_SERVICE_TOKEN:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')}" \
		$(BIN)/honcho start -f Procfile

# NLU cross-validation, chat turn latency and questions per contact, into reports/.
evaluate: setup rasa-train evaluate-extraction evaluate-dialogue
	scripts/rasa_evaluate.sh

# Questions per contact and under-triage for two simulated callers (one says no to what the
# story leaves out, one doesn't know), through the dialogue turn without Rasa.
evaluate-dialogue: setup
	@mkdir -p reports
	$(BIN)/python bench/eval_dialogue.py --json reports/dialogue_eval.json

# Fact extraction precision/recall/F1 on both held-out sets (tests/extraction_heldout.yml, _v2.yml).
evaluate-extraction: setup
	$(BIN)/python bench/eval_extraction.py

bench: setup
	$(BIN)/python bench/bench_decide.py

# POST /api/contacts with 20 concurrent clients against the running server, SQLite and PostgreSQL.
bench-api: setup
	$(BIN)/python bench/bench_api.py --backend both --clients 20 --requests 1000

# The call-handler console in headless Chromium: answer-to-decision p50/p95, questions per example.
bench-console: setup system-deps
	$(BIN)/python bench/bench_console.py --out bench/results/bench_console.json

# Locust, headless, loopback only, bounded (steps of 60 s): residents chatting through /chat
# with think time, call handlers in the console, duty workers polling the worklist, on SQLite
# and on PostgreSQL with the production profile (needs the PostgreSQL and Redis of
# .ci/run). Prints the capacity table (turn p95 < 1 s, no errors, fallbacks or duplicates).
load: setup rasa-train
	$(BIN)/python bench/run_load.py --profile both --out bench/results/load.json

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
