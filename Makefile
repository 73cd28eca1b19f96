# The two set-up commands of the README:
#   make demo   generate ~30 days of demo data, load it into DuckDB, dbt build, print a summary
#   make test   the whole test suite: ruff, sqlfluff, structural gates, pytest (which builds the
#               dbt project on DuckDB and PostgreSQL over a small generated dataset)
#               then the Spark stage (`make pytest-spark`: the project built on a local Spark
#               session, pytests/test_spark.py), run after the main suite so it has the cores
# Both create the virtualenv .venv from pyproject.toml + requirements.lock on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint sqlfluff gates pytest pytest-spark install browser clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/shoplens demo

test: lint sqlfluff gates pytest pytest-spark

# Headless Chromium for the report and board tests (pytests/test_report.py, test_board.py):
# Debian's chromium package and a CJK font for the screenshots, installed with apt-get when
# /usr/bin/chromium is missing (needs root or sudo; nothing is downloaded by a test tool).
CHROMIUM ?= /usr/bin/chromium
CHROMIUM_PACKAGES := chromium fonts-wqy-zenhei

browser:
	@if [ -x $(CHROMIUM) ]; then \
		echo "chromium: $$($(CHROMIUM) --version 2>/dev/null)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "error: $(CHROMIUM) is missing and apt-get is not available: install" \
			"Chromium (Debian/Ubuntu package 'chromium') by hand, then run make test" >&2; \
		exit 1; \
	else \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
		echo "installing $(CHROMIUM_PACKAGES) with apt-get (for the headless browser tests)"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
			$(CHROMIUM_PACKAGES) && \
		/usr/bin/chromium --version; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src pytests
	$(BIN)/ruff format --check src pytests

sqlfluff: $(STAMP)
	SHOPLENS_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint --processes 2 models tests analyses

# Structural gates: dbt-score's rules (src/shoplens/gates.py; config and exceptions in
# pyproject.toml [tool.dbt-score]) over the manifest of a `dbt parse` into a throwaway folder.
# Any violation fails.
gates: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	SHOPLENS_DUCKDB_PATH=:memory: $(BIN)/dbt parse --quiet --target duckdb \
		--target-path "$$tmp/target" --log-path "$$tmp/logs" && \
	$(BIN)/dbt-score lint --manifest "$$tmp/target/manifest.json"

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -n auto --dist loadgroup --durations=10 -m "not spark"

# The Spark stage: one SparkSession (a JVM) building the whole project over a small shop, next to
# the same shop on DuckDB. Needs Java 17+; run on its own, so it does not compete with the suite.
pytest-spark: $(STAMP)
	$(BIN)/python -m pytest -n 0 -m spark --durations=5

clean:
	rm -rf $(VENV) target logs data artifacts
