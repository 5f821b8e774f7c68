"""Import time of the handler module in a fresh interpreter, against `import boto3` in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.common import FUNCTION_DIR, REPO, Bench, Row, interleaved, median, paired_ratio, series
from infra.template.load import Context, function_environment, load_template

NAME = "cold_start"
TARGET = 1.5
# Time only the import statement: interpreter start-up is the same for both and not the handler's doing.
SNIPPET = "import sys, time; sys.path.insert(0, {path!r}); t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str, env: dict[str, str]) -> float:
    """Seconds `import module` takes in a fresh interpreter with the function's directory on sys.path."""
    code = SNIPPET.format(path=str(FUNCTION_DIR), module=module)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def run(bench: Bench) -> list[Row]:
    """Import `app` and `boto3` alternately in fresh interpreters (bytecode caches warm, as in a built package)."""
    template_env = function_environment(Context.for_template(load_template(), physical_ids={"ArchiveBucket": "b", "ArchiverSecret": "s"}))
    env = {**os.environ, **template_env, "AWS_DEFAULT_REGION": "us-east-1"}
    for module in ("app", "boto3"):  # write any missing .pyc files first
        import_seconds(module, env)
    seconds = interleaved({"app": lambda: import_seconds("app", env), "boto3": lambda: import_seconds("boto3", env)}, bench.times(15))
    handler, boto3 = seconds["app"], seconds["boto3"]
    ratio = paired_ratio(handler, boto3)
    detail = f"import app ms: {series([s * 1000 for s in handler], 0)}; import boto3 ms: {series([s * 1000 for s in boto3], 0)}"
    figure, baseline = f"{median(handler) * 1000:.0f} ms", f"{median(boto3) * 1000:.0f} ms"
    return [Row(NAME, "handler import time", figure, baseline, ratio, f"≤ {TARGET}×", ratio <= TARGET, detail)]
