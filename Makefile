# The two set-up commands of the README:
#   make demo   generate ~30 days of demo data, load it into DuckDB, dbt build, print a summary
#   make test   the whole test suite: ruff, sqlfluff, pytest (which builds the dbt project on
#               DuckDB and PostgreSQL over a small generated dataset)
# Both create the virtualenv .venv from pyproject.toml + requirements.lock on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint sqlfluff pytest install clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/shoplens demo

test: lint sqlfluff pytest

lint: $(STAMP)
	$(BIN)/ruff check src pytests
	$(BIN)/ruff format --check src pytests

sqlfluff: $(STAMP)
	SHOPLENS_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint --processes 2 models tests analyses

pytest: $(STAMP)
	$(BIN)/python -m pytest -n auto --durations=10

clean:
	rm -rf $(VENV) target logs data artifacts
