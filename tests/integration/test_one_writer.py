"""Two real runs at once against the local stack: one held mid-transaction, one that ends busy, one that waits for the lease."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from infra.local.stack import BUCKET, FUNCTION_DIR, LocalStack
from tests.integration.test_faults import LAST, PREFIX, REPO, THIS, archive, assert_holds_served, cold_start, current_keys, event, statuses
from tests.integration.test_transaction import PENDING, consistent

__all__ = ["cold_start"]
pytestmark = pytest.mark.integration

# Runs the handler once; with a key fragment, stops before the first PutObject on such a key, says HELD and waits for a line.
RUN = textwrap.dedent(
    """
    import json, sys, time
    import app
    from infra.local.stack import FakeContext
    run_event, fragment, held = json.loads(sys.argv[1]), sys.argv[2], []

    def hold(params, model, **kwargs):
        if fragment and not held and model.name == "PutObject" and fragment in params.get("Key", ""):
            held.append(True)
            print("HELD", flush=True)
            sys.stdin.readline()

    app.clients().s3.meta.events.register("provide-client-params", hold)
    print("RESULT " + json.dumps(app.lambda_handler(run_event, FakeContext(time.monotonic() + 900))), flush=True)
    """
)


def start(stack: LocalStack, run_event: dict[str, Any], hold: str = "", wait: int = 0) -> subprocess.Popen[str]:
    """The handler in a process of its own, waiting at most `wait` seconds for the lease."""
    env = {**os.environ, **stack.env, "LEASE_WAIT_SECONDS": str(wait), "PYTHONPATH": os.pathsep.join([str(FUNCTION_DIR), str(REPO)])}
    args = [sys.executable, "-c", RUN, json.dumps(run_event), hold]
    return subprocess.Popen(args, env=env, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def read_until(process: subprocess.Popen[str], wanted: str) -> list[str]:
    """The process's output lines up to the first one containing `wanted` (it must print it before it ends)."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if wanted in line:
            return lines
    raise AssertionError(f"{wanted!r} never printed (exit {process.wait()}): {''.join(lines)[-3000:]}")


def result(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The run's return value."""
    (line,) = [line for line in read_until(process, "RESULT ") if line.startswith("RESULT ")]
    assert process.wait(timeout=300) == 0
    found: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return found


def test_a_run_held_mid_transaction_keeps_the_archive_another_ends_busy_a_third_waits_and_runs_after(stack: LocalStack) -> None:
    archive(stack, LAST, THIS)
    stack.emulator.restate(LAST.year, LAST.month)
    first = start(stack, event(LAST), hold="/raw/")
    try:
        read_until(first, "HELD")  # its curated object is written, its raw upload (the commit point) not yet
        assert f"{PENDING}{LAST}.json" in current_keys(stack)
        stack.emulator.restate(LAST.year, LAST.month)  # what another run downloads from now on
        busy = result(start(stack, event(LAST)))
        assert (busy["status"], busy["results"]) == ("busy", [])
        assert busy["holder"].startswith("appstore-archiver-local request local-invocation ")
        third = start(stack, event(LAST), wait=600)
        read_until(third, "waiting up to 600 s")
        assert first.stdin is not None
        first.stdin.write("\n")
        first.stdin.flush()
        assert statuses(result(first)) == {str(LAST): "archived"}
    finally:
        first.kill()
    assert statuses(result(third)) == {str(LAST): "archived"}  # took the lease once the first run released it
    for month in (LAST, THIS):
        consistent(stack, month)
    assert_holds_served(stack, LAST)  # the latest restatement, raw and curated alike
    assert f"{PREFIX}state/lease.json" not in current_keys(stack)
    assert stack.clients.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}state/").get("KeyCount") == 0
