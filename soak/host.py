"""The parent's side of soak.child: start the function host, run one invocation in its own process, kill it by pid."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soak.invariants import Outcome

REPO = Path(__file__).resolve().parents[1]
HANG_SECONDS = 240.0  # a run still going after this is killed and reported as hung


@dataclass(frozen=True)
class Ended:
    """How a run's process ended."""

    killed: bool  # ended by SIGKILL (drawn, or the hang watchdog)
    hung: bool


class FunctionHost:
    """`python -m soak.child` with the function's environment; one forked process per invocation."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "soak.child"],
            cwd=REPO,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._read().get("ready") is not True:
            raise RuntimeError("soak.child did not start")
        self.running: int | None = None  # the pid of the run in progress

    def kill_running(self) -> None:
        """SIGKILL the run in progress, by its pid (called by the AWS fault decisions at a drawn kill point)."""
        pid = self.running
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"soak.child ended (exit {self.process.wait()})")
        doc: dict[str, Any] = json.loads(line)
        return doc

    def invoke(self, event: dict[str, Any], budget: float, out: Path, kill_at: float | None, on_start: Callable[[], None]) -> Ended:
        """Run the handler once in a new process; SIGKILL it `kill_at` seconds after it started, when drawn."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"event": event, "budget": budget, "out": str(out)}) + "\n")
        self.process.stdin.flush()
        pid = int(self._read()["pid"])
        self.running = pid
        hung = threading.Event()

        def kill(why_hung: bool = False) -> None:
            if why_hung:
                hung.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

        timers = [threading.Timer(HANG_SECONDS, kill, kwargs={"why_hung": True})]
        if kill_at is not None:
            timers.append(threading.Timer(kill_at, kill))
        for timer in timers:
            timer.start()
        on_start()
        try:
            status = int(self._read()["status"])
        finally:
            self.running = None
            for timer in timers:
                timer.cancel()
        return Ended(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, hung.is_set())

    def close(self) -> None:
        """End the host: close its stdin, then wait (terminate by pid if it does not end)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def read_output(out: Path, ended: Ended) -> Outcome:
    """The run's outcome from its output: per-month log records, EMF metrics, and the final result line."""
    outcome = Outcome(killed=ended.killed)
    text = out.read_text(errors="replace") if out.exists() else ""
    for line in text.splitlines():
        if line.startswith("SOAK-RESULT "):
            result = json.loads(line[len("SOAK-RESULT ") :])
            outcome.returned, outcome.error = bool(result["returned"]), result["error"]
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        if "_aws" in doc:
            for directive in doc["_aws"].get("CloudWatchMetrics", []):
                for metric in directive.get("Metrics", []):
                    value = doc.get(metric["Name"], 0)
                    total = sum(value) if isinstance(value, list) else value
                    outcome.metrics[metric["Name"]] = outcome.metrics.get(metric["Name"], 0) + total
        elif "month" in doc and "status" in doc:
            outcome.results.append(doc)
        elif "month" in doc and "transaction" in doc:
            outcome.settled.append(str(doc["transaction"]))
    return outcome
