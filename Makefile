# One Makefile for people and CI: the README and .ci/run call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests and benchmarks drive: headless Chromium for the dashboard tests,
# Prometheus/promtool for the alerting tests, wrk for concurrent read latency.
SYSTEM_PACKAGES := chromium prometheus wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps demo test lint unit integration bench bench-quick bench-reads bench-scaling bench-memory reliability clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the service and its dev tools

system-deps:  ## install the Debian tools the tests use, if any is missing
	@if ! command -v chromium >/dev/null || ! command -v promtool >/dev/null || ! command -v wrk >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
	fi

demo: $(STAMP)  ## embedded broker + redis-server + worker + reader on loopback, with live traffic
	$(BIN)/insights demo

lint: $(STAMP)  ## ruff (lint + format) and mypy --strict over code and tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)  ## fast tests, no services
	$(BIN)/pytest tests/unit -q

integration: $(STAMP) system-deps  ## real embedded broker and redis-server, started by the fixtures
	$(BIN)/pytest tests/integration -q -m integration

test: lint system-deps  ## everything CI runs: lint, unit, integration and browser tests
	$(BIN)/pytest tests -q --durations=15

bench-quick: $(STAMP) system-deps  ## the performance harness on 100k events, Redis memory of one org (< 3 min)
	$(BIN)/python -m bench.throughput --quick

bench: $(STAMP) system-deps  ## the full harness on 1M events (Redis memory included), plus read latency without cache
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.reads

reliability: $(STAMP) system-deps  ## full-size fault-injection suites; writes docs/RELIABILITY.md (< 1 h)
	$(BIN)/python -m bench.reliability

bench-scaling: $(STAMP) system-deps  ## throughput with 1, 2 and 3 workers, one Redis and a 3-master cluster
	$(BIN)/python -m bench.scaling --runs 3 --users 4000

bench-memory: $(STAMP)  ## Redis bytes per key and per org (docs/SCALING.md)
	$(BIN)/python -m bench.memory

bench-reads: $(STAMP) system-deps  ## read latency only
	$(BIN)/python -m bench.reads --cache-s 5

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis artifacts
