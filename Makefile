# sanpi: the words users say. `make run` and `make test` set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: setup run test docs lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install -q --python $(BIN)/python -r requirements.lock
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

run: setup
	$(BIN)/sanpi run

test: setup
	$(BIN)/python -m pytest

docs: setup
	$(BIN)/sanpi docs --serve

# Re-resolve the pinned dependency set after editing pyproject.toml.
lock: setup
	$(UV) pip compile -q pyproject.toml --extra test -o requirements.lock

clean:
	rm -rf $(VENV) data/warehouse.duckdb data/raw_files dbt_project/target dbt_project/logs expectations/gx/uncommitted
