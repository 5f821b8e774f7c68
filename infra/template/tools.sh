# Shared by check.sh and build.sh (sourced): pinned template tools in their own virtualenvs,
# and the Python interpreter `sam build` needs (the template's Runtime).
#
# ensure_venv DIR PACKAGE VERSION EXECUTABLE  a virtualenv with PACKAGE==VERSION; built with uv
#                                             ($UV_BIN, else uv on PATH), else with pip
# use_runtime                                 puts the template's pythonX.Y on PATH (as found, or
#                                             from pyenv, or uv-managed if already installed);
#                                             sets RUNTIME; fails with what to install

SAM_CLI_VERSION="1.170.0"
CHECKOV_VERSION="3.3.30"
PYTHON="${PYTHON:-python3}"
UV_BIN="${UV_BIN:-$(command -v uv || true)}"

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '%s FAILED: %s\n' "${FAIL_LABEL:-template check}" "$*" >&2; exit 1; }

ensure_venv() {
  local dir="$1" package="$2" version="$3" executable="$4"
  if [[ -x "$dir/bin/$executable" ]] && "$dir/bin/$executable" --version 2>/dev/null | grep -qF "$version"; then
    return 0
  fi
  if [[ -n "$UV_BIN" ]]; then
    step "installing $package==$version into $(basename "$dir") (uv)"
    "$UV_BIN" venv --quiet --allow-existing --python "$PYTHON" "$dir"
    "$UV_BIN" pip install --quiet --python "$dir/bin/python" "$package==$version"
  else
    step "installing $package==$version into $(basename "$dir") (pip)"
    [[ -x "$dir/bin/python" ]] || "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet "$package==$version"
  fi
  "$dir/bin/$executable" --version 2>/dev/null | grep -qF "$version" \
    || fail "$package $version did not install into $dir"
}

use_runtime() {
  RUNTIME="$(grep -E '^\s+Runtime:\s*python3\.[0-9]+' template.yaml | head -n 1 | sed -E 's/.*(python3\.[0-9]+).*/\1/')"
  [[ -n "$RUNTIME" ]] || fail "no python Runtime found in template.yaml"
  local wanted="${RUNTIME#python}" found=""
  "$RUNTIME" --version >/dev/null 2>&1 && return 0
  if command -v pyenv >/dev/null 2>&1; then
    found="$(pyenv versions --bare 2>/dev/null | grep -E "^${wanted//./\\.}(\.[0-9]+)?$" | sort -V | tail -n 1 || true)"
    if [[ -n "$found" ]]; then
      export PYENV_VERSION="$found:$(pyenv version-name 2>/dev/null || echo system)"
      "$RUNTIME" --version >/dev/null 2>&1 && return 0
    fi
  fi
  if [[ -n "$UV_BIN" ]]; then
    found="$("$UV_BIN" python find --no-python-downloads "$wanted" 2>/dev/null || true)"
    if [[ -n "$found" && -x "$(dirname "$found")/$RUNTIME" ]]; then
      export PATH="$(dirname "$found"):$PATH"
      "$RUNTIME" --version >/dev/null 2>&1 && return 0
    fi
  fi
  fail "sam build needs $RUNTIME (the template's Runtime) and none was found on PATH, in pyenv or among uv's Pythons.
Install Python $wanted, for example: pyenv install $wanted | apt-get install $RUNTIME | uv python install $wanted"
}
