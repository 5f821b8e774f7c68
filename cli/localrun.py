"""Run the function's real handler in this process against the local stack, reporting each period as it ends."""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from archiver.core.results import STATUSES
from cli.target import Target

OnMonth = Callable[[str, str, str, str | None], None]  # report type, period, status, error
TIMEOUT_SECONDS = 900.0  # the template's function timeout


class _MonthTap(logging.Handler):
    """Passes the handler's per-month log records (archiver.run.metrics.log_month) to a callback."""

    def __init__(self, on_month: OnMonth) -> None:
        super().__init__(logging.INFO)
        self.on_month = on_month

    def emit(self, record: logging.LogRecord) -> None:
        report, month, status, error = (getattr(record, name, None) for name in ("report", "month", "status", "error"))
        if isinstance(month, str) and status in STATUSES and isinstance(report, str) and report:
            self.on_month(report, month, str(status), error if isinstance(error, str) else None)


@contextlib.contextmanager
def _environment(target: Target) -> Iterator[None]:
    """The function's environment and the local AWS endpoint, for the duration of the run."""
    assert target.endpoint_url is not None
    saved = dict(os.environ)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(target.function_env)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": target.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": target.region,
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _quiet_logger(logger: logging.Logger, tap: logging.Handler, sink: io.StringIO) -> Iterator[None]:
    """Send the handler's JSON log lines to `sink` (not the terminal) and its month records to `tap`."""
    level, streams = logger.level, []
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            streams.append((handler, handler.setStream(sink)))
    logger.addHandler(tap)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(tap)
        logger.setLevel(level)
        for handler, stream in streams:
            handler.setStream(stream)


def run_local(target: Target, event: dict[str, Any], on_month: OnMonth) -> tuple[str | None, str | None]:
    """Invoke `app.lambda_handler` with the event: (the error it raised, or None; why it was busy, or None)."""
    from infra.local.stack import FakeContext

    sink = io.StringIO()  # the handler's stdout: JSON log lines and EMF metrics
    with _environment(target):
        app: Any = importlib.import_module("app")
        app.clients.cache_clear()  # clients for this endpoint, not a previous one
        logger = logging.getLogger(app.logger.service)
        with _quiet_logger(logger, _MonthTap(on_month), sink), contextlib.redirect_stdout(sink):
            try:
                result = app.lambda_handler(event, FakeContext(time.monotonic() + TIMEOUT_SECONDS))
            except Exception as exc:  # the run failed: report it as the function would
                return f"{type(exc).__name__}: {exc}", None
            finally:
                app.clients.cache_clear()
    if result.get("status") == "busy":  # another run holds the archive's lease: nothing was written
        return None, f"the archive's lease is held by {result['holder']} until {result['expires']}; nothing was written"
    return None, None
