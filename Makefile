# Every target sets up what it needs: a fresh clone only needs Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help venv demo test lint typecheck template-check unit integration bench soak clean

help:
	@echo "make demo   - run the whole pipeline locally (moto server + Appstore API emulator)"
	@echo "make test   - lint, type-check, template checks and every test"
	@echo "make bench  - benchmarks (not part of make test)"
	@echo "make soak   - randomized fault soak (SOAK_RUNS, SOAK_MINUTES, SOAK_SEED)"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

template-check: venv
	bash infra/template/check.sh

unit: venv
	$(BIN)/pytest tests/unit

integration: venv
	$(BIN)/pytest tests/integration

test: lint typecheck template-check
	$(BIN)/pytest

demo: venv
	$(BIN)/python -m infra.local.demo $(DEMO_ARGS)

bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

SOAK_RUNS ?= 2000
SOAK_MINUTES ?= 30
SOAK_SEED ?= 1
soak: venv
	$(BIN)/python -m soak --runs $(SOAK_RUNS) --minutes $(SOAK_MINUTES) --seed $(SOAK_SEED)

clean:
	rm -rf $(VENV) .venv-sam .venv-checkov .aws-sam .mypy_cache .ruff_cache .pytest_cache
