# postsale: every target installs what it needs (uv from PyPI, then `uv sync --frozen`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV ?= .local/tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
POSTSALE := $(VENV)/bin/postsale
STAMP := $(VENV)/.synced

# Airflow for the demo: SQLite metadata under .local/airflow, this repo's dags/.
export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION ?= True
export AIRFLOW__COSMOS__ENABLE_TELEMETRY ?= False
export DO_NOT_TRACK ?= 1
export DBT_SEND_ANONYMOUS_USAGE_STATS ?= False
export GX_ANALYTICS_ENABLED ?= False
# This checkout's packages first, also where .venv is shared with another checkout (a git
# worktree) whose editable install points there; and cosmos' per-task-group dbt cache here.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export AIRFLOW__COSMOS__CACHE_DIR ?= $(CURDIR)/.local/cosmos

# Reports: Apache Superset in its own locked environment (its Flask and SQLAlchemy pins do not
# fit Airflow's). Defined before the rules that list it: make expands prerequisites as it reads.
SUPERSET_VENV := .local/superset-venv
SUPERSET_STAMP := $(SUPERSET_VENV)/.synced

WORLD ?= $(CURDIR)/.local/world
DEMO_ACCOUNTS ?= 200
DEMO_SEED ?= 42

.PHONY: help setup manifest demo test lint docs mock-apis scale-out clean accuracy reports reports-stop

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .local/tools
	.local/tools/bin/pip install --quiet --disable-pip-version-check uv

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(STAMP)  ## create .venv from uv.lock

# dbt's compiled manifest: cosmos renders the dbt task groups from it at DAG parse time.
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := dbt_project/dbt_project.yml $(shell find dbt_project/models dbt_project/macros dbt_project/seeds \
	dbt_project/snapshots dbt_project/tests dbt_project/analyses -type f 2>/dev/null)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && DBT_PROFILES_DIR=. ../$(VENV)/bin/dbt parse --quiet
	@touch $@

manifest: $(MANIFEST)  ## parse the dbt project (the DAGs render their dbt tasks from the manifest)

# The demo's day is read once: both DAGs run for it and the accuracy check compares it, even
# when the demo crosses midnight UTC. Each DAG's whole output goes to .local/demo-<dag>.log; the
# terminal gets one line per finished task (`postsale demo-dag`), then the summary. A failure
# is one line naming the step and its log (DEMO_VERBOSE=1: also the log's last 60 lines).
DEMO_DBT_DOCS ?= 1
demo: $(MANIFEST)  ## run the whole pipeline once: simulated APIs, embedded PostgreSQL, `airflow dags test`
	@set -euo pipefail; \
	as_of=$$(date -u +%F); \
	fail() { echo "== demo failed: $$1"; exit 1; }; \
	export WAREHOUSE_URL="$$($(POSTSALE) warehouse-url --create)"; \
	[ -f "$(WORLD)/world.db" ] || $(PY) -m simulator generate --accounts $(DEMO_ACCOUNTS) --seed $(DEMO_SEED) --out "$(WORLD)"; \
	port=$$($(POSTSALE) free-port); \
	$(PY) -m simulator serve --world "$(WORLD)" --port $$port > .local/mock-apis.log 2>&1 & mock=$$!; \
	trap 'kill $$mock 2>/dev/null || true' EXIT; \
	$(POSTSALE) wait-for-port $$port --timeout 120 || fail "the mock APIs did not start (log: .local/mock-apis.log)"; \
	export AIRFLOW_CONN_POSTSALE_WAREHOUSE="$$WAREHOUSE_URL"; \
	eval "$$($(PY) -m simulator connections http://127.0.0.1:$$port)"; \
	echo "== warehouse $$($(PY) -m warehouse.redact "$$WAREHOUSE_URL"), mock APIs http://127.0.0.1:$$port, Airflow home $$AIRFLOW_HOME"; \
	$(VENV)/bin/airflow db migrate > .local/airflow-migrate.log 2>&1 || fail "airflow db migrate (log: .local/airflow-migrate.log)"; \
	for dag in postsale_ingest postsale_transform; do \
	  $(POSTSALE) demo-dag $$dag $$as_of --log .local/demo-$$dag.log $(if $(DEMO_VERBOSE),--show-log) || exit 1; \
	done; \
	$(PY) -m simulator accuracy --world "$(WORLD)" --warehouse "$$WAREHOUSE_URL" --as-of "$$as_of" \
	  --json .local/demo-accuracy.json --format none > .local/demo-accuracy.log 2>&1 \
	  || fail "the accuracy check (python -m simulator accuracy; log: .local/demo-accuracy.log)"; \
	$(POSTSALE) load-accuracy .local/demo-accuracy.json > /dev/null; \
	$(POSTSALE) bi-reader --create > /dev/null || fail "creating the bi_reader role (postsale bi-reader --create)"; \
	if [ "$(DEMO_DBT_DOCS)" = 1 ]; then \
	  start=$$(date +%s); \
	  $(POSTSALE) dbt docs generate --static --vars "{as_of_date: $$as_of}" > .local/demo-dbt-docs.log 2>&1 \
	    || fail "dbt docs generate (log: .local/demo-dbt-docs.log)"; \
	  echo "== dbt docs generated in $$(( $$(date +%s) - start ))s"; \
	fi; \
	$(POSTSALE) demo-summary --accuracy .local/demo-accuracy.json \
	  --log .local/demo-postsale_ingest.log --log .local/demo-postsale_transform.log \
	  --dbt-docs "$(CURDIR)/dbt_project/target/static_index.html"

lint: $(STAMP)  ## ruff (with Airflow's AIR rules), the import contracts (pyproject.toml), sqlfluff on the dbt models
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff check --select AIR dags
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint models --disable-progress-bar --processes 0

# Two pytest-xdist workers (TEST_WORKERS=0: one process). loadgroup keeps each group on one
# worker: a test file, or a whole package sharing a warehouse (tests/conftest.py names them and
# starts the longest first, an order --no-loadscope-reorder keeps).
TEST_WORKERS ?= 2
test: lint $(MANIFEST) $(SUPERSET_STAMP)  ## lint, then the test suite on two workers (creates and drops its own databases)
	$(VENV)/bin/pytest -m "not scale_out" -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25

SCALE_OUT_REDIS_URL ?= redis://127.0.0.1:6379/13
scale-out: $(MANIFEST)  ## Celery scale-out proof: api-server, scheduler, dag-processor, two workers on local PostgreSQL + Redis
	$(VENV)/bin/pytest -m scale_out -s

docs: $(STAMP)  ## dbt docs site and GX Data Docs
	$(POSTSALE) dbt docs generate --static
	$(POSTSALE) data-docs
	@echo "dbt docs:  $(CURDIR)/dbt_project/target/static_index.html (one file; open it in a browser)"

# The reported seeds (never used to develop or tune: simulator/evaluation/seeds.py).
ACCURACY_SEEDS ?= 101,102,103,104,105
ACCURACY_ACCOUNTS ?= 200
ACCURACY_ARGS ?=
accuracy: $(MANIFEST)  ## score the marts against fresh simulated worlds (ACCURACY_SEEDS, ACCURACY_ACCOUNTS): docs/ACCURACY.md
	$(PY) -m simulator evaluate --seeds $(ACCURACY_SEEDS) --accounts $(ACCURACY_ACCOUNTS) \
	  --json .local/accuracy.json --markdown docs/ACCURACY.md $(ACCURACY_ARGS)

# Reports: Debian's Chromium for the browser check (Playwright never downloads one).
CHROMIUM ?= /usr/bin/chromium
REPORTS_PORT ?= 8088
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(SUPERSET_STAMP): reports/superset/pyproject.toml reports/superset/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(SUPERSET_VENV) $(UV) sync --frozen --project reports/superset --python $(PYTHON)
	@touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# On the warehouse `make demo` left, read as bi_reader; Superset keeps running in the background.
reports: $(STAMP) $(SUPERSET_STAMP) $(CHROMIUM)  ## Superset dashboards on the demo's warehouse, each page checked in headless Chromium
	@set -euo pipefail; \
	WAREHOUSE_URL="$$($(POSTSALE) warehouse-url)"; export WAREHOUSE_URL; \
	if [ -f .local/accuracy.json ]; then \
	  $(POSTSALE) load-accuracy .local/accuracy.json > /dev/null \
	    && echo "score-accuracy: the held-out evaluation in .local/accuracy.json (make accuracy) loaded" \
	    || echo "score-accuracy: .local/accuracy.json not loaded (the line above says why); the page shows the demo's check"; \
	fi; \
	POSTSALE_BI_READER_URL="$$($(POSTSALE) bi-reader --create)"; export POSTSALE_BI_READER_URL; \
	$(PY) -m reports.build --port $(REPORTS_PORT)

reports-stop:  ## stop the Superset `make reports` started
	$(PY) -m reports.build --stop

BENCH_ACCOUNTS ?= 10000
BENCH_EVENT_DAYS ?= 120
BENCH_ARGS ?=
.PHONY: bench
bench: $(MANIFEST)  ## benchmark every stage on a simulated world (BENCH_ACCOUNTS, BENCH_EVENT_DAYS, BENCH_ARGS): docs/PERFORMANCE.md
	$(POSTSALE) bench --accounts $(BENCH_ACCOUNTS) --event-days $(BENCH_EVENT_DAYS) --update-docs docs/PERFORMANCE.md $(BENCH_ARGS)

BENCH_CURVE_SIZES ?= 2500,5000,10000
.PHONY: bench-curve
bench-curve: $(MANIFEST)  ## cost curve: every stage at several world sizes (BENCH_CURVE_SIZES, BENCH_EVENT_DAYS, BENCH_ARGS): docs/PERFORMANCE.md
	$(POSTSALE) bench --curve $(BENCH_CURVE_SIZES) --event-days $(BENCH_EVENT_DAYS) --update-docs docs/PERFORMANCE.md $(BENCH_ARGS)

mock-apis: $(STAMP)  ## serve the simulated HubSpot, Stripe and Mixpanel APIs
	$(PY) -m simulator serve

clean:  ## stop the embedded PostgreSQL and Superset, remove local state (data, Airflow home, world, reports, dbt target)
	-[ -x $(POSTSALE) ] && $(POSTSALE) warehouse-stop
	-[ -x $(PY) ] && $(PY) -m reports.build --stop
	rm -rf .local/pg .local/airflow .local/world .local/superset .local/reports dbt_project/target dbt_project/logs
