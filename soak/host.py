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
class Start:
    """One invocation to run: its event, time budget (the Lambda time left at its start), output file, and drawn kill."""

    event: dict[str, Any]
    budget: float
    out: Path
    kill_at: float | None = None


@dataclass(frozen=True)
class Ended:
    """How a run's process ended."""

    killed: bool  # ended by SIGKILL (drawn, at the time limit, or the hang watchdog)
    hung: bool
    timed_out: bool = False  # killed at its budget's end, as Lambda ends a run at its timeout


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
        self.running: int | None = None  # the pid of the (first) run in progress

    def kill_running(self) -> None:
        """SIGKILL the (first) run in progress, by its pid (called by the AWS fault decisions at a drawn kill point)."""
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

    def invoke(self, runs: list[Start], on_start: Callable[[], None]) -> list[Ended]:
        """Start the runs together, each in a new process; SIGKILL each `kill_at` seconds after it started, when drawn, and at
        the end of its budget (Lambda's timeout: a run of the soak's short budgets must not outlive its archive lease)."""
        assert self.process.stdin is not None
        specs = [{"event": r.event, "budget": r.budget, "out": str(r.out)} for r in runs]
        self.process.stdin.write(json.dumps({"runs": specs}) + "\n")
        self.process.stdin.flush()
        pids = [int(pid) for pid in self._read()["pids"]]
        self.running = pids[0]
        hung, timed_out = [threading.Event() for _ in pids], [threading.Event() for _ in pids]

        def kill(index: int, why: threading.Event | None = None) -> None:
            if why is not None:
                why.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids[index], signal.SIGKILL)

        timers = [threading.Timer(HANG_SECONDS, kill, args=(i, hung[i])) for i in range(len(pids))]
        timers += [threading.Timer(r.budget, kill, args=(i, timed_out[i])) for i, r in enumerate(runs)]
        timers += [threading.Timer(r.kill_at, kill, args=(i,)) for i, r in enumerate(runs) if r.kill_at is not None]
        for timer in timers:
            timer.start()
        on_start()
        try:
            statuses = [int(status) for status in self._read()["statuses"]]
        finally:
            self.running = None
            for timer in timers:
                timer.cancel()
        killed = [os.WIFSIGNALED(s) and os.WTERMSIG(s) == signal.SIGKILL for s in statuses]
        return [Ended(k, h.is_set(), k and t.is_set()) for k, h, t in zip(killed, hung, timed_out, strict=True)]

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
            outcome.returned, outcome.error, outcome.status = bool(result["returned"]), result["error"], result.get("status")
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
