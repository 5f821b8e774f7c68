# Every target sets up what it needs: a fresh clone only needs Python 3.11+ and make.
# The virtualenvs are built with uv (https://docs.astral.sh/uv/): the one on PATH, or, when
# there is none, uv $(UV_VERSION) installed with pip into .venv-uv. `make UV=` ignores uv on PATH.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV ?= $(shell command -v uv 2>/dev/null)
UV_BIN := $(if $(strip $(UV)),$(UV),.venv-uv/bin/uv)
export UV_BIN
export AWS_DEFAULT_REGION ?= us-east-1
# Let Python cache compiled bytecode (in .venv and in gitignored __pycache__ folders) even where
# the environment turns it off: without it every process recompiles boto3, moto, DuckDB's and
# sqlglot's modules (seconds per process).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help venv demo test lint typecheck template-check browser build unit integration bench soak clean

help:
	@echo "make demo   - run the whole pipeline locally (moto server + Appstore API emulator)"
	@echo "make test   - lint, type-check, template checks and every test"
	@echo "make build  - sam build with the template's Python runtime (found via pyenv, PATH or uv)"
	@echo "make bench  - benchmarks (not part of make test)"
	@echo "make soak   - randomized fault soak (SOAK_RUNS, SOAK_MINUTES, SOAK_SEED)"

.venv-uv/bin/uv:
	@echo "uv not found on PATH: installing uv==$(UV_VERSION) into .venv-uv"
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The project itself is installed last (editable, no dependencies) for its console scripts.
$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml | $(UV_BIN)
	@echo "setting up $(VENV) with $(UV_BIN) ($$($(UV_BIN) --version))"
	$(UV_BIN) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV_BIN) pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	$(UV_BIN) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

template-check: venv | $(UV_BIN)
	bash infra/template/check.sh

build: | $(UV_BIN)
	bash infra/template/build.sh $(BUILD_ARGS)

unit: venv
	$(BIN)/pytest tests/unit

integration: venv
	$(BIN)/pytest tests/integration

# The report's browser test (tests/cli/test_report_browser.py) opens it in headless Chromium, Debian's
# package: installed here when missing and we are root (CI is); otherwise the test says how to get it.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian package) for the report's browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium missing and not root: the report's browser test is skipped (install Debian's chromium package)"; fi; }

test: lint typecheck template-check browser
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
	rm -rf $(VENV) .venv-uv .venv-sam .venv-checkov .aws-sam .demo .mypy_cache .ruff_cache .pytest_cache
