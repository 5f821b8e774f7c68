#!/usr/bin/env bash
# `make build`: `sam build` with the pinned SAM CLI (.venv-sam) and the template's Python runtime
# (python3.13 today: found on PATH, in pyenv, or among uv's installed Pythons; no Docker).
# Extra arguments go to sam build (default output: .aws-sam/build, as a plain `sam build`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
FAIL_LABEL="make build"
# shellcheck source=infra/template/tools.sh
source infra/template/tools.sh

if [[ -z "${SAM_BIN:-}" ]]; then
  ensure_venv "$ROOT/.venv-sam" aws-sam-cli "$SAM_CLI_VERSION" sam
  SAM_BIN="$ROOT/.venv-sam/bin/sam"
fi
use_runtime
step "sam build ($RUNTIME $("$RUNTIME" --version 2>&1 | cut -d' ' -f2), $("$SAM_BIN" --version))"
"$SAM_BIN" build --template-file template.yaml "$@"
