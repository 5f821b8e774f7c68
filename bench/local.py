"""The local stack for benchmarks: one moto server, fresh stacks, and handler runs in a fresh process each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO
from infra.local.appstore_emulator import AppstoreEmulator
from infra.local.salesdata import file_name
from infra.local.stack import LocalStack, MotoServer


class FileEmulator(AppstoreEmulator):
    """The emulator, serving chosen months from pre-generated files (bench/data) instead of generating them."""

    def __init__(self, s3_client: Any, files: dict[tuple[int, int], Path], **options: Any) -> None:
        super().__init__(s3_client, **options)
        self.files = files
        self._uploaded: set[str] = set()

    def object_key(self, year: int, month: int) -> str:
        """Upload the month's file once and return its key; other months are generated as usual."""
        path = self.files.get((year, month))
        if path is None:
            return super().object_key(year, month)
        key = f"{self.vendor_id}/sales/{file_name(year, month, 'zip')}"
        if key not in self._uploaded:
            self.s3.upload_file(str(path), self.bucket, key)
            self._uploaded.add(key)
        return key


class Local:
    """One moto server for the whole run; each `stack()` resets it and provisions afresh."""

    def __init__(self) -> None:
        self.server: MotoServer | None = None
        self.current: LocalStack | None = None
        self.generation = 0

    def stack(self, files: dict[tuple[int, int], Path] | None = None) -> LocalStack:
        """A freshly reset and provisioned stack (the previous one is closed), optionally serving `files`."""
        if self.server is None:
            self.server = MotoServer().start()
        self.close_stack()
        self.server.reset()
        stack = LocalStack(self.server.url, reports="sales")
        if files:
            stack.emulator.stop()
            stack.emulator = FileEmulator(stack.clients.s3, files).start()
            stack.env.update(APPSTORE_TOKEN_URL=stack.emulator.token_url, APPSTORE_REPORT_URL=stack.emulator.report_url)
        self.current, self.generation = stack, self.generation + 1
        return stack

    def close_stack(self) -> None:
        """Stop the current stack's emulator."""
        if self.current is not None:
            self.current.close()
            self.current = None

    def close(self) -> None:
        """Stop the emulator and the moto server (by PID)."""
        self.close_stack()
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass(frozen=True)
class ChildRun:
    """One handler invocation in a fresh interpreter, as `bench.child` reported it, and its wall time."""

    wall_s: float
    peak_rss_kib: int
    import_s: float
    handler_s: float
    calls: dict[str, int]
    statuses: dict[str, int]
    rows: int
    error: str | None


def run_handler(stack: LocalStack, event: dict[str, Any], timeout: float = 900.0) -> ChildRun:
    """Invoke the real handler in a fresh `python -m bench.child` with the stack's environment."""
    env = {**os.environ, **stack.env}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        out, log_path = Path(scratch) / "result.json", Path(scratch) / "output.log"
        with open(log_path, "wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.child", json.dumps(event), str(out)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            watchdog = threading.Timer(timeout, process.kill)
            watchdog.start()
            try:
                process.wait()
            finally:
                watchdog.cancel()
            wall = time.perf_counter() - started
        if process.returncode != 0 or not out.exists():
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"bench.child exited with {process.returncode}:\n{tail}")
        report = json.loads(out.read_text())
    return ChildRun(wall_s=wall, **report)
