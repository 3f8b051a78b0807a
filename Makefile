# One Makefile for people and CI: the README and .ci/run call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The worker's hot path, compiled with mypyc next to its sources (streams/compiled.py lists it).
COMPILED := $(VENV)/.compiled
HOT_PATH := $(shell $(PYTHON) -c 'import sys; sys.path.insert(0, "."); from streams.compiled import HOT_PATH_MODULES; print(*HOT_PATH_MODULES)')
# Debian packages the tests and benchmarks drive: headless Chromium for the dashboard tests,
# Prometheus/promtool for the alerting tests, wrk for concurrent read latency.
SYSTEM_PACKAGES := chromium prometheus wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps compile-deps compile clean-compiled demo test lint unit integration bench bench-quick bench-reads bench-scaling bench-memory reliability clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# mypyc (with the dev tools) type-checks the hot path and gcc builds it: about 30 s, and again
# whenever one of its sources changes. An extension module older than its source is refused by
# the worker and the tests (streams/compiled.py), so an edit never silently runs old code.
$(COMPILED): $(STAMP) setup.py streams/compiled.py $(HOT_PATH) | compile-deps
	$(BIN)/pip install --quiet "setuptools>=77"  # reads pyproject.toml's SPDX license field
	$(BIN)/python setup.py --quiet build_ext --inplace --force
	touch $(COMPILED)

compile: $(COMPILED)  ## build the worker's hot path with mypyc (about 15% less worker CPU per login)

compile-deps:  ## a C compiler and Python's headers for mypyc, if missing
	@if ! command -v cc >/dev/null || ! $(PYTHON) -c 'import pathlib, sys, sysconfig; sys.exit(not pathlib.Path(sysconfig.get_paths()["include"], "Python.h").exists())'; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends gcc libc6-dev python3-dev; \
	fi

clean-compiled:  ## remove the compiled hot path: the same sources then run as plain Python
	rm -rf build $(COMPILED) *__mypyc.*.so
	find schemas streams agents -name '*.so' -delete

setup: $(STAMP)  ## create .venv with the service and its dev tools

system-deps:  ## install the Debian tools the tests use, if any is missing
	@if ! command -v chromium >/dev/null || ! command -v promtool >/dev/null || ! command -v wrk >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
	fi

demo: $(COMPILED) $(STAMP)  ## embedded broker + redis-server + worker + reader on loopback, with live traffic
	$(BIN)/insights demo

lint: $(STAMP)  ## ruff (lint + format) and mypy --strict over code and tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(COMPILED) $(STAMP)  ## fast tests, no services
	$(BIN)/pytest tests/unit -q

integration: $(COMPILED) $(STAMP) system-deps  ## real embedded broker and redis-server, started by the fixtures
	$(BIN)/pytest tests/integration -q -m integration

test: $(COMPILED) lint system-deps  ## everything CI runs: lint, unit, integration and browser tests
	$(BIN)/pytest tests -q --durations=15

bench-quick: $(COMPILED) $(STAMP) system-deps  ## the performance harness on 100k events (500k batched), Redis memory of one org (< 3 min)
	$(BIN)/python -m bench.throughput --quick

bench: $(COMPILED) $(STAMP) system-deps  ## the full harness on 1M events (Redis memory included), plus read latency without cache
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.reads

reliability: $(COMPILED) $(STAMP) system-deps  ## full-size fault-injection suites; writes docs/RELIABILITY.md (< 1 h)
	$(BIN)/python -m bench.reliability

bench-scaling: $(COMPILED) $(STAMP) system-deps  ## throughput with 1, 2 and 3 workers, one Redis and a 3-master cluster
	$(BIN)/python -m bench.scaling --runs 3 --users 4000

bench-memory: $(STAMP)  ## Redis bytes per key and per org (docs/SCALING.md)
	$(BIN)/python -m bench.memory

bench-reads: $(COMPILED) $(STAMP) system-deps  ## read latency only
	$(BIN)/python -m bench.reads --cache-s 5

clean: clean-compiled
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis artifacts
