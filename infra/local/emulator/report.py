"""The report-link endpoint: GET /api/appstore/download/report/{type}/{year}/{month} answers a presigned URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.local.emulator.faults import common_fault
from infra.local.emulator.oauth import authorize
from infra.local.emulator.replies import Reply, json_reply, text_reply

if TYPE_CHECKING:
    from infra.local.emulator.core import AppstoreEmulator

REPORT_TYPES = ("sales", "earnings", "subscription")


def report_reply(emu: AppstoreEmulator, method: str, path: str, headers: dict[str, str]) -> Reply:
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
    parts = path[len(emu.report_path) :].strip("/").split("/")
    if len(parts) != 3 or parts[0] not in REPORT_TYPES or not (parts[1].isdigit() and parts[2].isdigit()):
        return text_reply(400, f"Unable to fetch the request scope for uri = {path}")
    kind, year, month = parts[0], int(parts[1]), int(parts[2])
    if name == "not_found_404":
        return text_reply(404, "Report not found")
    if name == "report_not_found" or kind != "sales" or not emu.has_report(year, month):
        return text_reply(400, f"Report not found for {kind}/{year}/{month}")
    url = emu.presign(emu.object_key(year, month), expired=name == "expired_link")
    if name == "redirect":
        return Reply(302, b"", {"Location": str(options.get("location", url))})
    if name == "json_url":
        return json_reply(200, {"url": str(options.get("url", url))})
    reply = text_reply(200, str(options.get("url", url + "\r\n")) if name == "bare_url" else url)
    reply.truncate = name == "truncate"
    return reply
