# One Makefile for people and CI: the README and .ci/run call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint unit integration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the service and its dev tools

demo: $(STAMP)  ## embedded broker + redis-server + worker on loopback, with simulated traffic
	$(BIN)/insights demo

lint: $(STAMP)  ## ruff (lint + format) and mypy --strict over code and tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)  ## fast tests, no services
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)  ## real embedded broker and redis-server, started by the fixtures
	$(BIN)/pytest tests/integration -q -m integration

test: lint  ## everything CI runs: lint, unit and integration tests
	$(BIN)/pytest tests -q --durations=10

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
