# lastmile: one entry point per thing a user does. Every target installs what it needs first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(CURDIR)/data
SCALE ?= default
SEED ?= 7
BUDGET ?= 60
DAYS ?= 14

export LASTMILE_DATA_DIR := $(DATA_DIR)
export LASTMILE_LANDING_DIR ?= $(DATA_DIR)/landing
export LASTMILE_WAREHOUSE ?= $(DATA_DIR)/warehouse.duckdb
export LASTMILE_SERVING_DIR ?= $(DATA_DIR)/serving
export DAGSTER_HOME ?= $(DATA_DIR)/dagster_home
export LASTMILE_DEMO_SCALE ?= $(SCALE)
export LASTMILE_DEMO_SEED ?= $(SEED)
export GX_ANALYTICS_ENABLED := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1

.PHONY: install run history test dashboard tracking dagster manifest browser lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

manifest: install
	cd dbt_project && ../$(VENV)/bin/dbt parse --quiet --profiles-dir . --project-dir .

browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## Build the demo world with DAYS days of history, plan the next service date end to end, print a summary.
run: install manifest
	$(PY) -m orchestration.cli history --days $(DAYS) --scale $(SCALE) --seed $(SEED)
	$(PY) -m orchestration.cli run --scale $(SCALE) --seed $(SEED) --budget $(BUDGET)

## DAYS days of demo history up to today: orders -> plan -> execution -> ingestion -> KPIs, per day.
history: install manifest
	$(PY) -m orchestration.cli history --days $(DAYS) --scale $(SCALE) --seed $(SEED)

test: install manifest browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q --durations=20

dashboard: install
	$(VENV)/bin/streamlit run dashboard/app.py

## The customer tracking page (links /?t=<token>), its own server so customers never reach the ops pages.
tracking: install
	$(VENV)/bin/streamlit run dashboard/tracking_app.py --server.port 8502 --client.showErrorDetails none

dagster: install manifest
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml

lint: install
	$(VENV)/bin/ruff check .

bench: install manifest
	$(PY) benchmarks/plan_day.py

clean:
	rm -rf data/landing data/serving data/warehouse.duckdb* data/dagster_home dbt_project/target
