"""The demo's last step: the HTML report of the demo archive, written by `appstore-archive report`'s own code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cli.report import build
from cli.report.collect import collect
from cli.report.source import LocalAsk
from infra.local.athena import LocalAthena
from infra.local.config import DATABASE, TABLE
from infra.local.state import STATE_FILE

REPORT_FILE = STATE_FILE.parent / "report.html"


def write_report(athena: LocalAthena, out: Path = REPORT_FILE) -> Path:
    """The report of the whole demo archive, through the demo's local Athena; its absolute path."""
    report = collect(LocalAsk(athena), DATABASE, TABLE, f"Glue table {DATABASE}.{TABLE}, local demo stack")
    return build.write(report, out, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
