"""Injectable faults: the table of valid faults per endpoint and the replies shared by all endpoints."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from infra.local.emulator.replies import Reply, json_reply, s3_error, text_reply

_COMMON = {"500", "503", "429", "truncate", "delay"}
FAULTS: dict[str, frozenset[str]] = {
    "token": frozenset(_COMMON | {"invalid_token", "invalid_client", "invalid_scope"}),
    "report": frozenset(
        _COMMON | {"invalid_token", "not_found_404", "report_not_found", "expired_link", "redirect", "bare_url", "json_url"}
    ),
    "download": frozenset(_COMMON | {"corrupt", "expired_link", "not_found_404", "content_encoding_gzip"}),
}


@dataclass
class Fault:
    """An injected fault with the number of requests it still applies to."""

    name: str
    remaining: int
    options: dict[str, Any]


def common_fault(endpoint: str, fault: Fault | None) -> Reply | None:
    """Replies for 500/503/429; sleeps for delay; None when the request goes on."""
    if fault is None:
        return None
    name, options = fault.name, fault.options
    if name == "delay":
        time.sleep(float(options.get("seconds", 1.0)))
        return None
    if name not in ("500", "503", "429"):
        return None
    status = int(name)
    after = options.get("retry_after", 1)  # None: no Retry-After header
    retry = {"Retry-After": str(after)} if status in (429, 503) and after is not None else {}
    if endpoint == "token":
        error = "server_error" if status == 500 else "temporarily_unavailable"
        return json_reply(status, {"error": error, "error_description": "Injected failure"}, **retry)
    if endpoint == "download":
        code = {500: "InternalError", 503: "SlowDown", 429: "SlowDown"}[status]
        reply = s3_error(status, code, "Please reduce your request rate." if status != 500 else "We encountered an internal error.")
        reply.headers.update(retry)
        return reply
    text = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Rate exceeded"}[status]
    return text_reply(status, text, **retry)
