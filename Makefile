# WindowWatch: the only commands a newcomer needs.
#   make demo   set up, make demo data, run the pipeline through Airflow, serve the dashboards
#   make test   set up, run the test suite (what CI runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help

export WINDOWWATCH_HOME ?= $(CURDIR)/var
export PATH := $(HOME)/.local/bin:$(PATH)
# Debian packages the tests and the demo need: a browser for the dashboard tests and chart
# export, CJK fonts for charts and PDFs, PostgreSQL for the SQL source and Airflow metadata
# tests, poppler for checking the PDFs, Java 17 for the dbt build on local Spark (the portability
# test, tests/dbt/test_spark_build.py).
DEBIAN_PACKAGES := chromium fonts-noto-cjk postgresql poppler-utils openjdk-17-jre-headless
PYTEST_ARGS ?=

.PHONY: help setup uv python-deps system-deps demo test test-slow lint clean

help:
	@echo "make demo   - set up, generate demo feeds, run the pipeline through Airflow, serve dashboards"
	@echo "make test   - set up and run the test suite (CI)"
	@echo "make test-slow - the long trials too (fault injection, city scale)"

uv:
	@command -v uv >/dev/null 2>&1 || { echo "installing uv"; python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv; }

# The `spark` extra (dbt-spark + PySpark, ~400 MB) is installed too: CI builds the dbt project on
# local Spark (tests/dbt/test_spark_build.py), the proof that the SQL is portable (docs/scaling.md).
# Bytecode is compiled once here: Airflow and GE processes otherwise recompile on every start
# where PYTHONDONTWRITEBYTECODE is set (about 18 s each).
python-deps: uv
	uv sync --locked --extra spark --compile-bytecode

system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing -- install them with: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi

setup: python-deps system-deps

demo: setup
	uv run windowwatch demo

# Two pytest workers (the machine has 2 cores; much of a test's time is waiting on dbt, Airflow,
# Streamlit and chromium subprocesses). --dist loadfile keeps a module's tests, and so its
# module-scoped fixtures (dbt homes, servers), on one worker; session fixtures run once per worker.
# TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: setup
	uv run pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

test-slow: setup
	uv run pytest $(XDIST) $(PYTEST_ARGS)

clean:
	rm -rf var .pytest_cache dbt_project/target dbt_project/logs
