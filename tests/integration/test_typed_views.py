"""The typed views of the schema-free tables through the real handler, Glue (moto) and the local Athena stand-in."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from archiver.core.months import Month
from archiver.core.report_types import BY_NAME
from archiver.storage import lease
from infra.local.athena import LocalAthena
from infra.local.emulator.others import other_key
from infra.local.stack import BUCKET, DATABASE, PREFIX, TABLE, LocalStack

pytestmark = pytest.mark.integration

MONTH = Month.of(datetime.now(UTC)).shift(-3)
EARNINGS = BY_NAME["earnings"]
COLUMNS_KEY = EARNINGS.columns_key(PREFIX)


def served_text(stack: LocalStack) -> str:
    """The CSV the emulator serves for MONTH's earnings file."""
    key = other_key(stack.emulator, "earnings", MONTH.year, MONTH.month)
    assert key is not None
    return gzip.decompress(stack.clients.s3.get_object(Bucket=stack.emulator.bucket, Key=key)["Body"].read()).decode()


def serve(stack: LocalStack, text: str) -> None:
    """Amazon serves other bytes for MONTH's earnings file."""
    key = other_key(stack.emulator, "earnings", MONTH.year, MONTH.month)
    assert key is not None
    stack.clients.s3.put_object(Bucket=stack.emulator.bucket, Key=key, Body=gzip.compress(text.encode(), mtime=0))


def versions(stack: LocalStack) -> list[tuple[str, str]]:
    """Every object version under the prefix but the lease's (every run takes and releases it)."""
    listing = stack.clients.s3.list_object_versions(Bucket=BUCKET, Prefix=PREFIX).get("Versions", [])
    return sorted((v["Key"], v["VersionId"]) for v in listing if not v["Key"].endswith(lease.KEY))


def view_types(stack: LocalStack, name: str) -> dict[str, str]:
    """A typed view's columns as its Glue table lists them."""
    table = stack.clients.glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]
    assert table["TableType"] == "VIRTUAL_VIEW" and table["Parameters"]["presto_view"] == "true"
    return {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}


def test_each_section_gets_a_typed_view_with_the_right_numbers(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    stack.invoke({"months": [str(MONTH)]})
    types = view_types(stack, f"{TABLE}_earnings_typed")
    assert list(types)[:3] == ["year", "month", "line"]
    assert types["marketplace"] == types["earnings_period"] == types["payment_status"] == "string"
    assert types["payment_amount"] == types["tax_withheld"] == "decimal(38,2)"
    assert types["exchange_rate"] == "decimal(38,2)" and types["invoice_date"] == types["payment_date"] == "date"
    yearly = {name: view_types(stack, f"{TABLE}_earnings_yearly_typed_{name}") for name in ("notes", "summary", "detail")}
    assert yearly["summary"]["charge_units"] == "bigint" and yearly["summary"]["refunds"] == "decimal(38,2)"
    assert view_types(stack, f"{TABLE}_subscription_typed")["date"] == "date"
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as athena:
        columns = "marketplace, tax_withheld, payment_date, payment_amount"
        rows = athena.query(f"SELECT {columns} FROM {TABLE}_earnings_typed ORDER BY line").rows
        assert [r[0] for r in rows] == ["Amazon.com", "Amazon.de", "Amazon.co.jp"]
        assert all(isinstance(r[1], Decimal) and r[1] < 0 and isinstance(r[2], date) for r in rows), rows  # "(4.18)" reads -4.18
        assert len(rows) == len(served_text(stack).splitlines()) - 1
        raw = athena.query(f"SELECT element_at(fields, 'Payment Amount') FROM {TABLE}_earnings ORDER BY line").rows
        assert [r[3] for r in rows] == [Decimal(v.replace(",", "")) for (v,) in raw]
        units = athena.query(f"SELECT sum(charge_units) FROM {TABLE}_earnings_yearly_typed_summary").rows[0][0]
        text = athena.query(f"SELECT element_at(fields, 'Charge Units') FROM {TABLE}_earnings_yearly WHERE section = 'Summary'").rows
        assert units == sum(int(v.replace(",", "")) for (v,) in text) > 999  # "3,121" reads 3121


def test_a_new_earnings_column_appears_in_the_view_by_the_end_of_the_run_that_archived_it(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    stack.invoke({"months": [str(MONTH)]})
    summary = json.loads(stack.clients.s3.get_object(Bucket=BUCKET, Key=COLUMNS_KEY)["Body"].read())
    assert list(summary["periods"]) == [str(MONTH)]
    before = versions(stack)
    stack.invoke({"months": [str(MONTH)]})  # nothing changed: nothing is written, in S3 or Glue
    assert versions(stack) == before
    lines = served_text(stack).splitlines()
    lines[0] += ",Bonus Paid,Line (Note)"
    lines[1:] = [line + f',"1,{n}00.5",(note {n})' for n, line in enumerate(lines[1:])]
    serve(stack, "\r\n".join(lines) + "\r\n")
    result = stack.invoke({"months": [str(MONTH)]})
    assert {(r["report"], r["status"]) for r in result["results"]} >= {("earnings", "archived")}
    types = view_types(stack, f"{TABLE}_earnings_typed")
    assert (types["bonus_paid"], types["line_note"]) == ("decimal(38,1)", "string")
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as athena:
        bonus = athena.query(f"SELECT bonus_paid, line_note FROM {TABLE}_earnings_typed ORDER BY line").rows
    assert bonus == [(Decimal("1000.5"), "(note 0)"), (Decimal("1100.5"), "(note 1)"), (Decimal("1200.5"), "(note 2)")]
    lines[1] = lines[1].replace('"1,000.5"', "n/a")  # one value that is not a number: the column becomes varchar
    serve(stack, "\r\n".join(lines) + "\r\n")
    stack.invoke({"months": [str(MONTH)]})
    assert view_types(stack, f"{TABLE}_earnings_typed")["bonus_paid"] == "string"
