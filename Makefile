# sanpi: the words users say. `make run` and `make test` set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: setup browser run test docs lock clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

run: setup
	$(BIN)/sanpi run

# The docs-site test drives a real headless Chromium (Debian's package; needs root and apt).
browser:
	@{ command -v chromium && dpkg -s fonts-wqy-microhei; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium (and a CJK font) for the docs-site test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "chromium is missing and cannot be installed here: the docs-site test will say so"; fi; }

test: setup browser
	$(BIN)/python -m pytest

docs: setup
	$(BIN)/sanpi docs --serve

# Each stage against bare DuckDB at 10^5 and 10^6 rows (BENCH_MAX=10000000 adds 10^7): bench/results.md.
BENCH_MAX ?= 1000000
bench: setup
	$(BIN)/sanpi bench --markdown bench/results.md --rows $$(for n in 100000 1000000 10000000; do \
		[ $$n -le $(BENCH_MAX) ] && echo $$n; done)

# Re-resolve the pinned dependency set after editing pyproject.toml.
lock: setup
	$(UV) pip compile -q pyproject.toml --extra test -o requirements.lock

clean:
	rm -rf $(VENV) data/warehouse.duckdb data/warehouse.duckdb.lock data/raw_files data/published data/inbox_mirror \
	  dbt_project/target dbt_project/logs expectations/gx/uncommitted
