"""Start the deployed function asynchronously and follow its run in CloudWatch Logs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archiver.core.results import STATUSES

OnMonth = Callable[[str, str, str, str | None], None]  # report type, period, status, error


@dataclass
class RunLog:
    """What the log lines of one invocation said so far."""

    request_id: str
    started: bool = False
    ended: bool = False
    errors: list[str] = field(default_factory=list)
    failed_months: list[str] = field(default_factory=list)
    busy: str | None = None  # the run found the archive's lease held: nothing was written

    @property
    def failed(self) -> bool:
        """True when the run or any month failed."""
        return bool(self.errors or self.failed_months)

    def read(self, message: str, on_month: OnMonth) -> None:
        """Take one log line: the runtime's START/REPORT/timeout lines, and the function's JSON lines for this request."""
        text = message.strip()
        rid = self.request_id
        if text.startswith(f"START RequestId: {rid}"):
            self.started = True
        elif text.startswith(f"REPORT RequestId: {rid}"):
            self.ended = True
        elif rid in text and "Task timed out" in text:
            self.errors.append(text[text.index("Task timed out") :])
        elif text.startswith("{"):
            self._json(text, on_month)

    def _json(self, text: str, on_month: OnMonth) -> None:
        """A Powertools log line: a month's outcome, or the run's failure."""
        try:
            blob = json.loads(text)
        except ValueError:
            return
        if not isinstance(blob, dict) or blob.get("function_request_id") != self.request_id:
            return
        self.started = True
        report, month, status = blob.get("report"), blob.get("month"), blob.get("status")
        if isinstance(month, str) and status in STATUSES and isinstance(report, str):
            error = blob.get("error")
            on_month(report, month, str(status), error if isinstance(error, str) else None)
            if status == "failed":
                self.failed_months.append(f"{report} {month}")
        elif str(blob.get("message", "")).startswith("run busy: "):
            self.busy = str(blob["message"]).removeprefix("run busy: ")
        elif blob.get("level") == "ERROR" and str(blob.get("message", "")).startswith("run failed"):
            exception = str(blob.get("exception") or "").strip().splitlines()
            self.errors.append(f"{blob['message']}: {exception[-1]}" if exception else str(blob["message"]))


def start(lambda_client: Any, function: str, event: dict[str, Any]) -> str:
    """Invoke the function asynchronously; its request id."""
    response = lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode())
    return str(response["ResponseMetadata"]["RequestId"])


def follow(
    logs: Any,
    group: str,
    run: RunLog,
    since_ms: int,
    on_month: OnMonth,
    timeout: float,
    poll: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll the log group until the run's REPORT line, or until `timeout` seconds have passed."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while not run.ended and time.monotonic() < deadline:
        for event in _events(logs, group, since_ms):
            if event["eventId"] in seen:
                continue
            seen.add(event["eventId"])
            since_ms = max(since_ms, event["timestamp"])
            run.read(event["message"], on_month)
        if not run.ended:
            sleep(poll)


def _events(logs: Any, group: str, since_ms: int) -> list[dict[str, Any]]:
    """Every event in the group from `since_ms` on, oldest first; none while the group does not exist yet."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return []
        found.extend(page.get("events", []))
        if not page.get("nextToken") or not page.get("events"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return sorted(found, key=lambda e: (e["timestamp"], e["eventId"]))
