"""The soak's function host: imports the handler once, then runs each invocation in a forked process of its own.

Protocol (one JSON object a line): the parent writes `{"event", "budget", "out"}`; this process forks,
prints `{"pid": N}`, and once the run's process has ended prints `{"pid": N, "status": S}`
(S as from os.waitpid). The run's process writes the handler's stdout and stderr (Powertools
log lines and EMF metrics) to `out` and ends it with one line `SOAK-RESULT {"returned", "error"}`.
The parent kills a run's process with SIGKILL, by its pid, to simulate a Lambda timeout or an
out-of-memory end. Forking an imported interpreter keeps a run's cost to the handler itself.

`SOAK_BROKEN=no-rollback` loads a deliberately broken archiver (see soak.broken), for the
test that shows the soak finds violations.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from infra.local.config import FakeContext

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "archiver"


def _lower_multipart_threshold() -> None:
    """Make small reports take the multipart path (CreateMultipartUpload, UploadPart, CompleteMultipartUpload)."""
    import archiver.objects as objects

    threshold = os.environ.get("MULTIPART_THRESHOLD_BYTES")
    if threshold:
        objects.MULTIPART_THRESHOLD = int(threshold)


def _run(app: Any, spec: dict[str, Any]) -> None:
    """One invocation in this (forked) process; output to spec['out']."""
    fd = os.open(spec["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    returned, error = False, None
    try:
        app.lambda_handler(spec["event"], FakeContext.budget(float(spec["budget"]), "soak"))
        returned = True
    except Exception as exc:  # the run's failure is its result
        error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    sys.stdout.write("SOAK-RESULT " + json.dumps({"returned": returned, "error": error}) + "\n")
    sys.stdout.flush()


def main() -> int:
    """Import the handler, then fork one process per invocation read from stdin."""
    sys.path.insert(0, str(FUNCTION_DIR))
    import app

    _lower_multipart_threshold()
    if os.environ.get("SOAK_BROKEN"):
        from soak.broken import install

        install(os.environ["SOAK_BROKEN"])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        spec = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _run(app, spec)
            finally:
                os._exit(0)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"pid": pid, "status": status}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
