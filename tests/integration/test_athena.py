"""The local Athena stand-in over what the archiver wrote: named queries, totals, OpenCSVSerDe semantics, CLI."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from archiver.core.months import Month
from infra.local.athena import AthenaError, LocalAthena, _width, format_table, template_queries
from infra.local.stack import BUCKET, DATABASE, TABLE, LocalStack
from tests.integration.jsontables import archive_every_json_type

pytestmark = pytest.mark.integration

CURRENT = Month.of(datetime.now(UTC))
REVENUE = "Revenue and earnings by app and currency per month"
REPO = Path(__file__).resolve().parents[2]


def archive(stack: LocalStack, start: Month) -> None:
    """Run the handler as scheduled from `start`; every month must be archived."""
    stack.env["START_MONTH"] = str(start)
    assert {r["status"] for r in stack.invoke()["results"]} == {"archived"}


@pytest.fixture
def athena(stack: LocalStack) -> Iterator[LocalAthena]:
    """The stand-in over the stack's Glue table (created before the archiver ran: refresh it)."""
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as local:
        yield local


def fold(text: str) -> str:
    """Line breaks inside values become one space in the curated copy."""
    return re.sub(r"\r\n|\r|\n", " ", text)


def test_named_query_totals_equal_the_generated_totals(stack: LocalStack, athena: LocalAthena) -> None:
    months = list(CURRENT.shift(-3).through(CURRENT))
    stack.emulator.set_month(months[0].year, months[0].month, variant="renamed", compression="gzip")
    stack.emulator.set_month(months[1].year, months[1].month, variant="drift", bom=True)
    stack.emulator.restate(months[2].year, months[2].month)
    archive(stack, months[0])
    athena.refresh()
    assert athena.partitions == [[str(m.year), m.mm] for m in months]

    expected: dict[tuple[str, ...], list[Decimal]] = {}
    per_month: dict[tuple[str, str], list[Decimal]] = {}
    for month in months:
        totals = stack.emulator.expected_totals(month.year, month.month)
        assert totals is not None and totals.groups
        for (title, currency), group in totals.groups.items():
            sums = [Decimal(group.rows), group.units, group.sales_price, group.estimated_earnings]
            key = (str(month.year), month.mm, fold(title), currency)
            expected[key] = [a + b for a, b in zip(expected.get(key, [Decimal(0)] * 4), sums, strict=True)]
            per_month[key[:2]] = [a + b for a, b in zip(per_month.get(key[:2], [Decimal(0)] * 4), sums, strict=True)]

    result = athena.run_named(REVENUE)
    keys, figures = ["year", "month", "status", "title", "marketplace_currency"], ["transactions", "units", "sales", "estimated_earnings"]
    assert result.columns == keys + figures
    assert {(*row[:2], *row[3:5]): list(row[5:]) for row in result.rows} == expected  # exact: Decimal == Decimal, int == Decimal
    assert {row[2] for row in result.rows} == {"archived"}  # every month of the periods table has rows: no empty month
    assert all(isinstance(v, Decimal) for row in result.rows for v in row[7:])

    assert athena.create_views() == ["Create the typed sales view", "Create the sales restatements view"]
    typed = athena.query(
        "SELECT year, month, count(*), sum(units), sum(sales_price), sum(estimated_earnings) FROM sales_typed GROUP BY year, month"
    )
    assert {row[:2]: list(row[2:]) for row in typed.rows} == per_month


def test_every_named_query_runs(stack: LocalStack, athena: LocalAthena, tmp_path: Path) -> None:
    archive(stack, CURRENT.shift(-1))
    archive_every_json_type(stack, CURRENT.shift(-1), tmp_path)  # the queries over the schema-free report tables need rows too
    athena.refresh()
    queries = template_queries(DATABASE, TABLE)
    assert len(queries) >= 3
    for name in queries:
        result = athena.run_named(name)
        if name.startswith("Create"):
            assert result.columns == []
        else:
            assert result.columns and result.rows, name
    latest = athena.run_named("Latest transactions")
    assert 0 < len(latest.rows) <= 100
    assert [row[0] for row in latest.rows] == sorted((row[0] for row in latest.rows), reverse=True)


def test_opencsvserde_semantics_and_registered_partitions_only(stack: LocalStack, athena: LocalAthena) -> None:
    months = [CURRENT.shift(-1), CURRENT]
    archive(stack, months[0])
    # An object outside any registered partition, and a registered month taken out of the catalog.
    stack.clients.s3.put_object(Bucket=BUCKET, Key="appstore/sales/year=2017/month=01/stray.csv.gz", Body=b"")
    stack.clients.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=[str(months[0].year), months[0].mm])
    athena.refresh()
    table = stack.clients.glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    names = [c["Name"] for c in table["StorageDescriptor"]["Columns"]] + [k["Name"] for k in table["PartitionKeys"]]

    everything = athena.query(f'SELECT * FROM "{DATABASE}"."{TABLE}"')
    assert everything.columns == names
    expected = stack.emulator.expected_totals(CURRENT.year, CURRENT.month)
    assert expected is not None and len(everything.rows) == expected.rows
    assert {row[-2:] for row in everything.rows} == {(str(CURRENT.year), CURRENT.mm)}
    assert all(isinstance(v, str) for row in everything.rows for v in row)  # every value a string, never NULL
    blanks = athena.query("SELECT count(*) FROM sales WHERE usage_time = '' AND asin = ''").rows
    assert blanks == [(expected.rows,)]
    assert athena.query("SHOW PARTITIONS sales").rows == [(f"year={CURRENT.year}/month={CURRENT.mm}",)]


def test_cli_runs_sql_and_named_queries_against_moto_server(stack: LocalStack) -> None:
    archive(stack, CURRENT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "infra.local.athena", "--endpoint", stack.endpoint]
    sql = subprocess.run([*command, "SELECT count(*) AS n FROM sales_typed"], capture_output=True, text=True, env=env, check=False)
    assert sql.returncode == 0, sql.stderr
    expected = stack.emulator.expected_totals(CURRENT.year, CURRENT.month)
    assert expected is not None
    lines = sql.stdout.splitlines()
    assert (lines[0].strip(), lines[2].strip(), lines[3]) == ("n", str(expected.rows), "(1 row)")
    named = subprocess.run([*command, "--named", "Units by country per month"], capture_output=True, text=True, env=env, check=False)
    assert named.returncode == 0, named.stderr
    assert named.stdout.splitlines()[0].split() == ["year", "month", "status", "country_region_code", "transactions", "units"]
    bad = subprocess.run([*command, "SELECT no_such_column FROM sales"], capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1 and "no_such_column" in bad.stderr


class NoAws:
    """A client that fails the test on any use."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"AWS was called: {name}")


def test_a_query_without_a_table_touches_neither_glue_nor_s3() -> None:
    with LocalAthena(NoAws(), NoAws(), DATABASE, TABLE) as athena:  # type: ignore[arg-type]
        athena.defer_views()
        assert athena.query("SELECT 1 AS one").rows == [(1,)]
        assert athena.query("WITH t AS (SELECT 2 AS n) SELECT n FROM t").rows == [(2,)]


def test_refresh_downloads_only_new_or_changed_objects(stack: LocalStack, athena: LocalAthena, monkeypatch: pytest.MonkeyPatch) -> None:
    months = [CURRENT.shift(-2), CURRENT.shift(-1), CURRENT]
    archive(stack, months[0])
    downloads: list[str] = []
    real = stack.clients.s3.download_file
    monkeypatch.setattr(stack.clients.s3, "download_file", lambda bucket, key, path: downloads.append(key) or real(bucket, key, path))
    first = athena.query("SELECT count(*) FROM sales").rows
    assert len(downloads) == 3
    athena.query("SELECT count(*) FROM sales")  # loaded once, not per query
    athena.refresh()
    assert len(downloads) == 3
    stack.emulator.restate(months[1].year, months[1].month)
    stack.invoke({"months": [str(months[1])]})
    athena.refresh()
    assert downloads[3:] == [f"appstore/sales/year={months[1].year}/month={months[1].mm}/sales_{months[1].year}_{months[1].mm}.csv.gz"]
    assert athena.query("SELECT count(*) FROM sales").rows == [(first[0][0] + 1,)]  # the restatement added a refund row
    stack.clients.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=[str(months[0].year), months[0].mm])
    athena.refresh()
    assert athena.files == 2 and len(downloads) == 4


def test_unknown_database_is_one_clear_error(stack: LocalStack, athena: LocalAthena) -> None:
    with pytest.raises(AthenaError, match=r"unknown database 'appstore_archive'.*'appstore_local'"):
        athena.query('SELECT * FROM "appstore_archive"."sales_typed"')
    with (
        LocalAthena(stack.clients.glue, stack.clients.s3, "appstore_archive", TABLE) as other,
        pytest.raises(AthenaError, match="no Glue database 'appstore_archive'"),
    ):
        other.query("SELECT * FROM sales")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "infra.local.athena", "--endpoint", stack.endpoint]
    for args in (['SELECT * FROM "appstore_archive"."sales_typed"'], ["--database", "appstore_archive", "SELECT * FROM sales"]):
        done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 1 and "Traceback" not in done.stderr and "appstore_archive" in done.stderr
    local = subprocess.run([*command, 'SELECT count(*) FROM "appstore_local"."sales_typed"'], capture_output=True, text=True, env=env)
    assert local.returncode == 0, local.stderr


def test_cli_list_prints_names_and_descriptions_not_sql() -> None:
    done = subprocess.run([sys.executable, "-m", "infra.local.athena", "--list"], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0
    names = [line for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert names == list(template_queries(DATABASE, TABLE))
    assert "SELECT" not in done.stdout.upper().split()


def test_format_table() -> None:
    text = format_table(["title", "sales", "note"], [("日本語パズル 🧩", Decimal("1.500000"), None), ("Garden", Decimal("-12"), "a\nb")])
    lines = text.splitlines()
    assert lines[0].split() == ["title", "sales", "note"]
    assert lines[2].split() == ["日本語パズル", "🧩", "1.50", "NULL"]
    assert lines[3].split() == ["Garden", "-12", "a\\nb"]
    assert lines[-1] == "(2 rows)"
    ends = [_width(lines[2][: lines[2].index("1.50") + 4]), _width(lines[3][: lines[3].index("-12") + 3])]
    assert ends[0] == ends[1]  # numbers right-aligned in terminal columns despite the wide characters
    assert format_table(["n"], [(1,), (2,), (3,)], max_rows=1).splitlines()[-1] == "(3 rows, 2 not shown)"


def test_quotes_and_backslashes_read_back_as_served(stack: LocalStack, athena: LocalAthena) -> None:
    header = ["Marketplace", "Transaction ID", "Title", "Sales Price (Marketplace Currency)", "Estimated Earnings (Marketplace Currency)"]
    titles = ["C:\\", "a\\b", '"Quoted" start', 'say "hi", then \\"bye\\"', "\\\\server\\share"]
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [header, *[["Amazon.com", f"T{i}", t, "1.50", "1.05"] for i, t in enumerate(titles)]]
    )
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive_file:
        archive_file.writestr("sales.csv", buffer.getvalue().encode())
    key = stack.emulator.object_key(CURRENT.year, CURRENT.month)
    stack.clients.s3.put_object(Bucket=stack.emulator.bucket, Key=key, Body=packed.getvalue())
    result = stack.invoke({"months": [str(CURRENT)]})
    assert [r["status"] for r in result["results"]] == ["archived"]
    athena.refresh()
    rows = athena.query(f'SELECT transaction_id, title, sales_price FROM "{DATABASE}"."{TABLE}" ORDER BY transaction_id').rows
    assert [(row[1], row[2]) for row in rows] == [(t, "1.50") for t in titles]
