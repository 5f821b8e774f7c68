"""Import the handler in this fresh process, invoke it once, and write what it did as JSON (for the benchmarks).

Usage: python -m bench.child EVENT_JSON OUT_PATH (the environment is the function's; AWS points at moto).
Kept to the standard library and the handler's own imports, so the process's peak RSS is the handler's. The peak
is VmHWM of /proc/self/status: on Linux, ru_maxrss of a spawned process also counts its parent's RSS at spawn time.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from infra.local.config import FakeContext

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "archiver"


def peak_rss_kib() -> int:
    """This process image's peak resident set size in KiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return usage // 1024 if sys.platform == "darwin" else usage  # bytes on macOS, KiB elsewhere
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1])


def main(argv: list[str]) -> int:
    """Run the handler once; record import and handler time, AWS API calls by name, and the month statuses."""
    event, out = json.loads(argv[0]), Path(argv[1])
    sys.path.insert(0, str(FUNCTION_DIR))
    started = time.perf_counter()
    import app

    imported = time.perf_counter()
    import boto3

    calls: Counter[str] = Counter()

    def count(model: Any, params: Any = None, **_: Any) -> None:
        lease = isinstance(params, dict) and str(params.get("url_path", "")).split("?")[0].endswith("/state/lease.json")
        calls[f"{model.service_model.service_name}.{model.name}" + (" (lease)" if lease else "")] += 1  # the run's lease apart

    boto3.setup_default_session()  # app.clients() creates its clients from this session
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call", count)
    error: str | None = None
    results: list[dict[str, Any]] = []
    begun = time.perf_counter()
    try:
        results = app.lambda_handler(event, FakeContext.budget(900.0, "bench"))["results"]
    except Exception as exc:  # a failed run is a result too; the benchmark decides
        error = f"{type(exc).__name__}: {exc}"
    finished = time.perf_counter()
    statuses = Counter(str(r["status"]) for r in results)
    report = {
        "import_s": imported - started,
        "handler_s": finished - begun,
        "calls": dict(calls),
        "statuses": dict(statuses),
        "rows": sum(int(r["rows"] or 0) for r in results),
        "error": error,
        "peak_rss_kib": peak_rss_kib(),
    }
    out.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
