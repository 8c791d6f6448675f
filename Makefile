# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
export DAGSTER_HOME := $(CURDIR)

.PHONY: run test dev lint eval-extraction bench clean-warehouse install

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

dev: install
	$(BIN)/dagster dev

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests
	# sqlfluff's dbt templater opens a DuckDB file: a scratch one, never the build warehouse.
	scratch=$$(mktemp -d) && cd dbt_project && SHEGONG_DUCKDB=$$scratch/lint.duckdb ../$(BIN)/sqlfluff lint models; \
		status=$$?; rm -rf $$scratch; exit $$status

# Scores with the shared scorer itself, so the figure printed is the one reviewers see.
eval-extraction: install
	@if [ -f ../shared/reports/gold.jsonl ]; then \
		pred=$$(mktemp) && $(BIN)/shegong extract --format jsonl ../shared/reports/*.txt > $$pred && \
		$(BIN)/python ../shared/tools/score_extraction.py ../shared/reports/gold.jsonl $$pred; rm -f $$pred; \
	else echo "../shared/reports is not here: nothing to evaluate"; fi

bench: install
	$(BIN)/shegong bench --scale $(or $(SCALE),small)

clean-warehouse:
	rm -rf warehouse
