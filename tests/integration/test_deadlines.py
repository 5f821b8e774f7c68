"""Time limits against the local stack: metrics survive a killed run, and no wait outlasts the run's budget."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archiver.amazon import appstore
from archiver.core.months import Month
from infra.local.emulator.faults import Fault
from infra.local.stack import FUNCTION_DIR, LocalStack

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
THIS = Month.of(datetime.now(UTC))
MONTHS = [THIS.shift(-2), THIS.shift(-1), THIS]

RUNNER = textwrap.dedent(
    """
    import json, sys, time
    import app
    from infra.local.stack import FakeContext

    app.lambda_handler(json.loads(sys.argv[1]), FakeContext(time.monotonic() + 900))
    """
)


@pytest.fixture(autouse=True)
def cold_start() -> None:
    """Each test starts like a new execution environment: no cached Appstore token."""
    appstore._TOKEN_CACHE.clear()


def emitted(lines: list[str]) -> Counter[str]:
    """The EMF metrics among printed lines, summed by name."""
    totals: Counter[str] = Counter()
    for line in lines:
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            for metric in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = doc[metric["Name"]]
                totals[metric["Name"]] += sum(value) if isinstance(value, list) else value
    return totals


def test_a_run_killed_mid_month_has_already_emitted_the_finished_months_metrics(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first two downloads go through at once; the third hangs far beyond the moment the run is killed.
    stack.emulator.inject("download", "delay", times=2, seconds=0)
    stack.emulator.inject("download", "delay", times=1, seconds=300)
    hanging = threading.Event()  # the emulator has begun the hanging download: the run is inside the third month
    take_fault = stack.emulator.take_fault

    def watched(endpoint: str) -> Fault | None:
        fault = take_fault(endpoint)
        if fault is not None and fault.options.get("seconds") == 300:
            hanging.set()
        return fault

    monkeypatch.setattr(stack.emulator, "take_fault", watched)
    # As a pipe, not a terminal, the run's stdout is block-buffered unless the environment says otherwise (as Lambda's
    # runtime and many shells do): the handler itself must flush each month's metrics, so the test does not inherit it.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env = {**inherited, **stack.env, "PYTHONPATH": os.pathsep.join([str(FUNCTION_DIR), str(REPO)])}
    run_event = {"months": [str(m) for m in MONTHS]}
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(run_event)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    two_months = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if emitted(lines)["MonthsArchived"] >= 2:
                two_months.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert hanging.wait(timeout=120), "the run never reached the hanging download"
        assert process.poll() is None, "the run ended by itself instead of hanging on the third download"
        # The two months ended, and their metrics were written, before the third began; the reader may lag behind.
        assert two_months.wait(timeout=30), f"no per-month metrics before the kill; stdout was: {''.join(lines)[-2000:]}"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        reader.join(timeout=30)
    assert process.returncode == -signal.SIGKILL
    metrics = emitted(lines)
    assert (metrics["MonthsArchived"], metrics["RowsArchived"] > 0, metrics["BytesArchived"] > 0) == (2, True, True)
    assert "RunSucceeded" not in metrics and "RunFailed" not in metrics  # the run never reached its end


def deferred_for_lack_of_time(result: dict[str, Any], error: str) -> None:
    """The month ran out of time before its commit point: deferred (the run succeeds), the reason kept."""
    (entry,) = result["results"]
    assert entry["status"] == "deferred" and re.match(error, entry["error"]), entry


def test_a_retry_after_longer_than_the_time_left_defers_the_month_at_once(stack: LocalStack) -> None:
    stack.emulator.inject("report", 429, times=5, retry_after=45)
    started = time.monotonic()
    result = stack.invoke({"months": [str(THIS)]}, timeout=150.0)  # 30 s before the 120 s safety margin
    deferred_for_lack_of_time(result, r"OutOfTime: a Retry-After wait of HTTP 429 would take 45 s, but the run has")
    assert time.monotonic() - started < 10
    assert stack.emulator.stats()["report"][429] == 1  # no second request: the wait was refused, not slept


def test_a_malformed_retry_after_is_treated_as_absent(stack: LocalStack) -> None:
    stack.emulator.inject("report", 429, times=1, retry_after="soon")
    result: dict[str, Any] = stack.invoke({"months": [str(THIS)]})
    assert [r["status"] for r in result["results"]] == ["archived"]
    assert stack.emulator.stats()["report"][429] == 1


def test_a_hanging_download_defers_the_month_within_the_time_left(stack: LocalStack) -> None:
    stack.emulator.inject("download", "delay", times=1, seconds=60)
    started = time.monotonic()
    result = stack.invoke({"months": [str(THIS)]}, timeout=126.0)  # 6 s before the 120 s safety margin
    deferred_for_lack_of_time(result, r"OutOfTime: ")
    assert time.monotonic() - started < 20
