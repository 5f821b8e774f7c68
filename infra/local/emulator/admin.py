"""JSON control endpoints under /_emulator/ for driving an emulator that runs in another process."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from infra.local.emulator.replies import Reply, json_reply

if TYPE_CHECKING:
    from infra.local.emulator.state import EmulatorState


def admin_reply(emu: EmulatorState, method: str, action: str, query: str, body: bytes) -> Reply:
    """JSON control endpoints under /_emulator/ for a separate-process demo."""
    try:
        if method == "POST":
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
        else:
            payload = {k: v[0] for k, v in parse_qs(query).items()}
        result = _admin_action(emu, method, action, payload)
    except LookupError as exc:
        return json_reply(400 if isinstance(exc, KeyError) else 404, {"error": str(exc)})
    except (TypeError, ValueError) as exc:
        return json_reply(400, {"error": str(exc)})
    return json_reply(200, result)


def _admin_action(emu: EmulatorState, method: str, action: str, p: dict[str, Any]) -> Any:
    """Perform one admin action and return its JSON result."""
    if method == "GET" and action == "health":
        return {"token_url": emu.token_url, "report_url": emu.report_url, "bucket": emu.bucket}
    if method == "GET" and action == "stats":
        return emu.stats()
    if method == "GET" and action == "served":
        return emu.served.to_json()
    if method == "GET" and action == "download-headers":
        return emu.download_headers
    if method == "GET" and action == "expected-totals":
        totals = emu.expected_totals(int(p["year"]), int(p["month"]))
        return None if totals is None else totals.to_json()
    if method == "POST" and action == "faults":
        emu.inject(p.pop("endpoint"), p.pop("fault"), int(p.pop("times", 1)), **p)
    elif method == "POST" and action == "months":
        emu.set_month(int(p.pop("year")), int(p.pop("month")), **p)
    elif method == "POST" and action == "report-answers":
        emu.set_report_answer(str(p["report"]), str(p["answer"]))
    elif method == "POST" and action == "restate":
        return {"revision": emu.restate(int(p["year"]), int(p["month"]))}
    elif method == "POST" and action == "expire-tokens":
        emu.expire_tokens()
    elif method == "POST" and action == "reset":
        emu.reset()
    elif method == "POST" and action == "clock":
        emu.advance_clock(float(p.get("advance", 0)))
        return {"now": emu.now()}
    else:
        raise LookupError(f"no admin action {method} {action}")
    return {"ok": True}
