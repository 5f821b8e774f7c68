"""The report-link endpoint (GET /api/appstore/download/report/{type}/{year}/{month}) and its bearer-token check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.local.emulator.faults import common_fault
from infra.local.emulator.others import other_key, parse_path
from infra.local.emulator.replies import Reply, json_reply, text_reply

if TYPE_CHECKING:
    from infra.local.emulator.state import EmulatorState

REPORT_TYPES = ("sales", "earnings", "subscription")  # the first part of a link path


def report_reply(emu: EmulatorState, method: str, path: str, headers: dict[str, str]) -> Reply:
    """GET /api/appstore/download/report/{type}/{year}/{month}: the bare presigned URL."""
    if method != "GET":
        return text_reply(405, "Method Not Allowed")
    if emu.rate_limited():
        return text_reply(429, "Rate exceeded", **{"Retry-After": "1"})
    fault = emu.take_fault("report")
    reply = common_fault("report", fault)
    if reply is not None:
        return reply
    name, options = (fault.name, fault.options) if fault else ("", {})
    reply = json_reply(401, {"message": "Unauthorized"}) if name == "invalid_token" else authorize(emu, headers)
    if reply is not None:
        return reply
    relative = path[len(emu.report_path) :].strip("/")
    parsed = parse_path(relative.split("/"))
    if parsed is None or emu.report_answer(parsed[0]) == "unsupported":
        return text_reply(400, f"Unable to fetch the request scope for uri = {path}")
    kind, year, month = parsed
    if name == "not_found_404":
        return text_reply(404, "Report not found")
    key: str | None = None
    if name != "report_not_found" and emu.report_answer(kind) == "file":
        if kind != "sales":
            key = other_key(emu, kind, year, month)
        elif month is not None and emu.has_report(year, month):
            key = emu.object_key(year, month)
    if key is None:
        return text_reply(400, f"Report not found for {relative}")
    url = emu.presign(key, expired=name == "expired_link")
    if name == "redirect":
        return Reply(302, b"", {"Location": str(options.get("location", url))})
    if name == "json_url":
        return json_reply(200, {"url": str(options.get("url", url))})
    reply = text_reply(200, str(options.get("url", url + "\r\n")) if name == "bare_url" else url)
    reply.truncate = name == "truncate"
    return reply


def authorize(emu: EmulatorState, headers: dict[str, str]) -> Reply | None:
    """401 for a missing or unknown bearer token, expired_token_status for an expired one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    expiry = emu.token_expiry(token.strip()) if scheme.lower() == "bearer" else None
    if expiry is None:
        return json_reply(401, {"message": "Unauthorized"}, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if emu.now() >= expiry:
        return json_reply(emu.expired_token_status, {"message": "The access token has expired"})
    return None
