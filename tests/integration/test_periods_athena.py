"""The periods table through the local Athena stand-in: a row for every month, a missing month kept by the monthly query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from archiver.core.months import Month
from infra.local.athena import LocalAthena
from infra.local.stack import DATABASE, TABLE, LocalStack

pytestmark = pytest.mark.integration

CURRENT = Month.of(datetime.now(UTC))
MONTHLY_STATUS = "Sales per month with each month's completeness status"


@pytest.fixture
def athena(stack: LocalStack) -> Iterator[LocalAthena]:
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as local:
        yield local


def test_a_missing_month_keeps_its_row_with_its_status(stack: LocalStack, athena: LocalAthena) -> None:
    months = list(CURRENT.shift(-3).through(CURRENT))
    missing = months[1]
    stack.emulator.set_month(missing.year, missing.month, empty=True)  # Amazon: "Report not found"
    stack.env["START_MONTH"] = str(months[0])
    stack.invoke()
    athena.refresh()
    periods = athena.query(f"SELECT period, status, row_count, year, month FROM {TABLE}_periods WHERE report = 'sales' ORDER BY period")
    assert [row[:2] for row in periods.rows] == [(str(m), "not_found" if m == missing else "archived") for m in months]
    counts = dict(athena.query(f"SELECT concat(year, '-', month), count(*) FROM {TABLE} GROUP BY 1").rows)
    assert {row[0]: row[2] for row in periods.rows if row[1] == "archived"} == counts
    monthly = athena.run_named(MONTHLY_STATUS)
    by_month = {row[0]: row for row in monthly.rows}
    assert sorted(by_month) == [str(m) for m in months]  # the missing month is not dropped by the join
    assert by_month[str(missing)][1:3] == ("not_found", None) and by_month[str(missing)][4] == 0
