#!/usr/bin/env bash
# Template checks, run by `make template-check` (and so by `make test` and CI):
#   1. sam validate --lint                  (SAM CLI, offline; needs only a region)
#   2. cfn-lint on template.yaml and on the SAM-translated template
#   3. checkov on template.yaml and on the SAM-translated template: 0 failed checks,
#      every skip declared in the template with a reason
#   4. sam build (python3.13, arm64, no Docker) into a temporary directory
#   5. the built artifact holds app.py, archiver/ and exactly the pinned dependencies
#
# Tools come from virtualenvs at the repository root, created on first use with pinned
# versions (with uv when available, see tools.sh): .venv-sam (aws-sam-cli, which brings
# cfn-lint and aws-sam-translator) and .venv-checkov (checkov). SAM_BIN / CHECKOV_BIN, when set,
# name executables to use instead. `sam build` needs the template's runtime (python3.13), found
# on PATH, in pyenv or among uv's Pythons (the same search as `make build`).
# Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# shellcheck source=infra/template/tools.sh
source infra/template/tools.sh

started=$SECONDS

if [[ -z "${SAM_BIN:-}" ]]; then
  ensure_venv "$ROOT/.venv-sam" aws-sam-cli "$SAM_CLI_VERSION" sam
  SAM_BIN="$ROOT/.venv-sam/bin/sam"
fi
if [[ -z "${CHECKOV_BIN:-}" ]]; then
  ensure_venv "$ROOT/.venv-checkov" checkov "$CHECKOV_VERSION" checkov
  CHECKOV_BIN="$ROOT/.venv-checkov/bin/checkov"
fi
SAM_DIR="$(dirname "$SAM_BIN")"
SAM_PYTHON="$SAM_DIR/python"
CFN_LINT="$SAM_DIR/cfn-lint"
[[ -x "$SAM_PYTHON" && -x "$CFN_LINT" ]] || fail "SAM_BIN must be the sam of a virtualenv that also has cfn-lint"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step "sam validate --lint ($("$SAM_BIN" --version))"
"$SAM_BIN" validate --lint --template-file template.yaml

step "SAM transform (aws-sam-translator)"
"$SAM_PYTHON" -m infra.template.load translate template.yaml >"$WORK/translated.json"
echo "translated template: $("$SAM_PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Resources"]))' "$WORK/translated.json") resources"

step "cfn-lint ($("$CFN_LINT" --version))"
"$CFN_LINT" template.yaml
cp "$WORK/translated.json" "$WORK/template.translated.json"
"$CFN_LINT" "$WORK/template.translated.json"
echo "cfn-lint: no findings"

# run_checkov FILE LABEL: 0 failed checks, no parsing errors, and at least one check run.
run_checkov() {
  local file="$1" label="$2" status=0
  "$CHECKOV_BIN" --skip-download --framework cloudformation --compact \
    -o json -f "$file" >"$WORK/checkov.json" 2>"$WORK/checkov.err" || status=$?
  "$SAM_PYTHON" - "$WORK/checkov.json" "$label" "$status" <<'PY' || { cat "$WORK/checkov.err" >&2; return 1; }
import json
import sys

path, label, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    report = json.load(open(path, encoding="utf-8"))
except ValueError:
    sys.exit(f"checkov ({label}): no JSON report (exit status {status})")
if isinstance(report, list):
    sys.exit(f"checkov ({label}): expected one framework report, got {len(report)}")
summary = report.get("summary", {})
results = report.get("results", {})
for check in results.get("failed_checks", []):
    print(f"  FAILED {check['check_id']} {check['check_name']} ({check['resource']})")
for check in results.get("skipped_checks", []):
    reason = (check.get("check_result") or {}).get("suppress_comment", "")
    print(f"  skipped {check['check_id']} on {check['resource']}: {' '.join(reason.split())[:90]}")
print(
    f"checkov ({label}): passed {summary.get('passed', 0)}, failed {summary.get('failed', 0)}, "
    f"skipped {summary.get('skipped', 0)}, parsing errors {summary.get('parsing_errors', 0)}"
)
if summary.get("failed", 0) or summary.get("parsing_errors", 0) or not summary.get("passed", 0):
    sys.exit(1)
if status not in (0,):
    sys.exit(f"checkov ({label}): exit status {status}")
PY
}

step "checkov $("$CHECKOV_BIN" --version)"
run_checkov template.yaml "template.yaml" || fail "checkov on template.yaml"
run_checkov "$WORK/template.translated.json" "SAM-translated template" || fail "checkov on the translated template"

# sam build runs pip for the function's runtime and needs that interpreter (tools.sh finds it).
use_runtime

step "sam build ($RUNTIME $("$RUNTIME" --version 2>&1 | cut -d' ' -f2), no container)"
"$SAM_BIN" build --template-file template.yaml --build-dir "$WORK/build" --cache-dir "$WORK/cache" \
  >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "sam build"; }
grep -E '^(Building|Build Succeeded)' "$WORK/build.log" || true

step "build artifact"
"$SAM_PYTHON" -m infra.template.verify_build "$WORK/build/ArchiverFunction" || fail "build artifact"

printf '\ntemplate checks passed in %ss\n' "$((SECONDS - started))"
