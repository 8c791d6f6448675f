# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
export DAGSTER_HOME := $(CURDIR)

.PHONY: run test test-fast dev docs lint eval-extraction bench clean-warehouse install

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,postgres,spark]'
	touch $(STAMP)

# The dbt manifest is prepared at install time, never parsed when Dagster loads the code location.
$(MANIFEST): $(STAMP) $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' | grep -v target/)
	$(BIN)/shegong prepare

install: $(STAMP) $(MANIFEST)

run: install
	$(BIN)/shegong generate --if-empty
	$(if $(ENGINE),SHEGONG_ENGINE=$(ENGINE) )$(BIN)/shegong run

test: install
	$(BIN)/python -m pytest

# The pure-function lane: parsing, validation, extraction, suites (no dbt, Dagster runs or servers), under a minute.
test-fast: install
	$(BIN)/python -m pytest tests/unit -q

# The Dagster UI and daemon the `dg` way (orchestration/dg.toml: the project; shegong/defs: its definitions).
# DAGSTER_EVENT_BATCH_SIZE: the runs the UI and the daemon launch hand the storage their partition events in
# batches, as `shegong run` does (shegong/dagster_internals.py, ShegongSqliteEventLog).
dev: install
	cd orchestration && DAGSTER_EVENT_BATCH_SIZE=$${DAGSTER_EVENT_BATCH_SIZE:-1000} ../$(BIN)/dg dev

# dbt docs built into their own target folder (dbt_project/target stays the manifest Dagster loads), then
# served on http://127.0.0.1:$(DOCS_PORT) until Ctrl-C. The catalog (column types) is read from the build warehouse.
DOCS_PORT ?= 8081
DOCS_TARGET ?= $(CURDIR)/warehouse/dbt_docs
docs: install
	cd dbt_project && SHEGONG_DUCKDB=$${SHEGONG_DUCKDB:-$(CURDIR)/warehouse/build/shegong_build.duckdb} \
		../$(BIN)/dbt docs generate --target-path $(DOCS_TARGET) --profiles-dir . --quiet
	$(BIN)/dbt docs serve --project-dir dbt_project --profiles-dir dbt_project --target-path $(DOCS_TARGET) \
		--host 127.0.0.1 --port $(DOCS_PORT) --no-browser

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests
	# sqlfluff's dbt templater opens a DuckDB file: a scratch one, never the build warehouse.
	scratch=$$(mktemp -d) && cd dbt_project && SHEGONG_DUCKDB=$$scratch/lint.duckdb ../$(BIN)/sqlfluff lint models; \
		status=$$?; rm -rf $$scratch; exit $$status

# Scores with the shared scorer itself, so the figure printed is the one reviewers see.
eval-extraction: install
	@if [ -f ../shared/reports/gold.jsonl ]; then \
		pred=$$(mktemp) && start=$$(date +%s.%N) && \
		$(BIN)/shegong extract --format jsonl ../shared/reports/*.txt > $$pred && \
		echo "extracted $$(ls ../shared/reports/*.txt | wc -l) reports in $$(echo "$$(date +%s.%N) - $$start" | bc) s (with interpreter start-up)" && \
		$(BIN)/python -m shegong.extraction.evaluate ../shared/reports/gold.jsonl --pred $$pred && \
		$(BIN)/python ../shared/tools/score_extraction.py ../shared/reports/gold.jsonl $$pred --details; rm -f $$pred; \
	else echo "../shared/reports is not here: nothing to evaluate"; fi

bench: install
	$(BIN)/shegong bench --scale $(or $(SCALE),small)

clean-warehouse:
	rm -rf warehouse
