"""The soak's function host: imports the handler once, then runs each invocation in a forked process of its own.

Protocol (one JSON object a line): the parent writes `{"runs": [{"event", "budget", "out"}, ...]}`
(two runs: overlapping invocations on the one archive); this process forks one process per run,
prints `{"pids": [N, ...]}`, and once they all ended prints `{"statuses": [S, ...]}` (S as from
os.waitpid). Each run's process writes the handler's stdout and stderr (Powertools log lines and
EMF metrics) to its `out` and ends it with one line `SOAK-RESULT {"returned", "error", "status"}`
(`status`: that of the return value, e.g. "busy", if it has one).
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


def _scale_down() -> None:
    """Make small reports take the multipart path, and the run's time limits fit runs of seconds (see soak.loop).

    MULTIPART_THRESHOLD_BYTES: CreateMultipartUpload, UploadPart, CompleteMultipartUpload for small reports.
    SOAK_SAFETY_MARGIN_SECONDS: no month started with less time left (120 s in Lambda); SOAK_LEASE_MARGIN_SECONDS: how
    long the archive lease outlives the run's time left (when the archiver has a lease), so a killed run's lease expires
    seconds after its budget, not minutes.
    """
    import archiver.run.service as service
    import archiver.storage.objects as objects

    threshold = os.environ.get("MULTIPART_THRESHOLD_BYTES")
    if threshold:
        objects.MULTIPART_THRESHOLD = int(threshold)
    if margin := os.environ.get("SOAK_SAFETY_MARGIN_SECONDS"):
        service.SAFETY_MARGIN_SECONDS = float(margin)
    if (margin := os.environ.get("SOAK_LEASE_MARGIN_SECONDS")) and hasattr(service, "MARGIN_SECONDS"):
        service.MARGIN_SECONDS = float(margin)  # the name service.invoke reads (imported from archiver.storage.lease)


def _run(app: Any, spec: dict[str, Any]) -> None:
    """One invocation in this (forked) process; output to spec['out']."""
    fd = os.open(spec["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    returned, error, status = False, None, None
    try:
        value = app.lambda_handler(spec["event"], FakeContext.budget(float(spec["budget"]), "soak"))
        returned, status = True, value.get("status") if isinstance(value, dict) else None
    except Exception as exc:  # the run's failure is its result
        error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    sys.stdout.write("SOAK-RESULT " + json.dumps({"returned": returned, "error": error, "status": status}) + "\n")
    sys.stdout.flush()


def main() -> int:
    """Import the handler, then fork one process per invocation read from stdin (several at once if asked)."""
    sys.path.insert(0, str(FUNCTION_DIR))
    import app

    _scale_down()
    if os.environ.get("SOAK_BROKEN"):
        from soak.broken import install

        install(os.environ["SOAK_BROKEN"])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        pids = []
        for spec in json.loads(line)["runs"]:
            pid = os.fork()
            if pid == 0:
                try:
                    _run(app, spec)
                finally:
                    os._exit(0)
            pids.append(pid)
        print(json.dumps({"pids": pids}), flush=True)
        print(json.dumps({"statuses": [os.waitpid(pid, 0)[1] for pid in pids]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
