"""`report`: one HTML file whose numbers are the curated rows' sums, for a run archive, a one-month and a nine-year archive."""

from __future__ import annotations

import gzip
import re
from decimal import Decimal
from pathlib import Path

from archiver.answers.periods_upkeep import refresh
from archiver.core.months import Month
from archiver.storage.store import ArchiveStore
from infra.local.stack import LocalStack
from tests.cli.conftest import invoke
from tests.cli.healthy import HEADER, Healthy
from tests.cli.reportpage import curated_sums, read, rows_of


def archive_with_restatement(stack: LocalStack, state: Path) -> None:
    """Three months run through the function: 2024-03 not found at Amazon, 2024-02 restated and fetched again."""
    stack.emulator.set_month(2024, 3, empty=True)
    assert invoke("run", "--state-file", str(state), "--months", "2024-01,2024-02,2024-03").exit_code == 0
    stack.emulator.restate(2024, 2)
    assert invoke("run", "--state-file", str(state), "--months", "2024-02").exit_code == 0


def write_report(state: Path, out: Path, *flags: str) -> str:
    """Run `report` and return the page; the command prints the file's path."""
    result = invoke("report", "--state-file", str(state), "--out", str(out), *flags)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out.resolve())
    return out.read_text()


def test_the_numbers_are_the_sums_over_the_curated_rows(local, tmp_path: Path) -> None:
    stack, state = local
    archive_with_restatement(stack, state)
    html = write_report(state, tmp_path / "report.html", "--from", "2024-01", "--to", "2024-03")
    page = read(html)
    env = stack.env
    expected = curated_sums(stack.clients.s3, env["ARCHIVE_BUCKET"], env["ARCHIVE_PREFIX"])
    currencies = {currency for _, _, currency in expected}
    assert len(currencies) > 1  # the emulator's marketplaces: never added together
    shown = {}
    for currency in currencies:
        for month, title, transactions, units, sales, earnings in rows_of(page, f"table-sales-{currency}"):
            shown[month, title, currency] = [Decimal(transactions), Decimal(units), Decimal(sales), Decimal(earnings)]
    assert shown == expected
    assert "(none)" not in html and "(no title)" not in html  # 2024-03 (not found) is in the sales queries, as no app or currency
    summary = {row[0]: [Decimal(v) for v in row[1:]] for row in rows_of(page, "table-summary")}
    for currency in currencies:
        mine = [v for (_, _, c), v in expected.items() if c == currency]
        assert summary[currency] == [sum(v[i] for v in mine) for i in range(4)]
    top = rows_of(page, "table-top-apps")
    assert sum(Decimal(row[2]) for row in top) == sum(v[1] for v in expected.values())  # the emulator has fewer apps than the top 10
    # Completeness: 2024-03 is not found, not a month without sales; the restated month shows both fetches.
    sales_periods = {row[0]: row[1] for row in rows_of(page, "table-completeness-sales")}
    assert sales_periods == {"2024-01": "archived", "2024-02": "archived", "2024-03": "not_found"}
    restated = [row for row in rows_of(page, f"table-restatements-{sorted(currencies)[0]}") if row[0] == "2024-02"]
    assert [row[1] for row in restated] == ["1", "2"]
    first = sorted(currencies)[0]
    assert Decimal(restated[1][5]) == sum(v[2] for (m, _, c), v in expected.items() if m == "2024-02" and c == first)  # the current version
    assert "estimated earnings" in html.lower() and "table-earnings-" in html
    url = re.search(r"https?://", html)
    assert url is None, f"the file references no URL (it opens offline): {html[url.start() - 200 : url.end() + 80]}"
    assert {"units", "top-apps", "top-skus", "top-marketplaces", "completeness-sales"} <= set(page.charts)


def test_a_one_month_archive(local, tmp_path: Path) -> None:
    _, state = local
    assert invoke("run", "--state-file", str(state), "--months", "2024-05").exit_code == 0
    page = read(write_report(state, tmp_path / "one.html", "--from", "2024-05", "--to", "2024-05"))
    assert {row[0] for row in rows_of(page, "table-units")} == {"2024-05"}
    assert "completeness-sales" in page.charts and "units" in page.charts


def test_a_nine_year_archive_labels_years(local, tmp_path: Path) -> None:
    stack, state = local
    env = stack.env
    archive = Healthy(
        stack.clients.s3, stack.clients.glue, env["ARCHIVE_BUCKET"], env["ARCHIVE_PREFIX"], env["GLUE_DATABASE"], env["GLUE_TABLE"]
    )
    months = [Month(2017 + i // 12, i % 12 + 1) for i in range(108)]
    for month in months:
        archive.archive(month, tmp_path, rows=2)
    assert refresh(ArchiveStore(stack.clients.s3, env["ARCHIVE_BUCKET"], env["ARCHIVE_PREFIX"]), months[0], months[-1], []) is not None
    html = write_report(state, tmp_path / "long.html")
    page = read(html)
    assert [row[0] for row in rows_of(page, "table-sales-USD")] == [str(m) for m in months]
    assert [row[1] for row in rows_of(page, "table-completeness-sales")] == ["archived"] * 108
    units_chart = html.split('data-chart="units"')[1].split("</svg>")[0]
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", units_chart)
    assert {str(year) for year in range(2017, 2026)} <= set(labels) and not any(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t) for t in labels)


def test_a_sum_with_no_parseable_value_is_a_dash_and_a_zero_sum_is_zero(local, tmp_path: Path) -> None:
    """Through the local Athena stand-in: a file without estimated earnings and an app whose sales price does not parse
    (their sums are NULL) show a dash, never 0; a free app's sum is a real 0; the total adds the known parts, marked."""
    stack, state = local
    env = stack.env
    archive = Healthy(
        stack.clients.s3, stack.clients.glue, env["ARCHIVE_BUCKET"], env["ARCHIVE_PREFIX"], env["GLUE_DATABASE"], env["GLUE_TABLE"]
    )
    month = Month(2024, 4)
    rows = [("Paid", "1.99"), ("Free", "0.00"), ("Garbled", "n/a")]  # no Estimated Earnings column: every earnings sum is NULL
    body = HEADER + "".join(f"amazon.com,US,tx-{n},2024-04-02T10:00:00Z,{title},1,{price},USD\n" for n, (title, price) in enumerate(rows))
    archive.archive(month, tmp_path, raw=gzip.compress(body.encode(), mtime=0))
    assert refresh(ArchiveStore(stack.clients.s3, env["ARCHIVE_BUCKET"], env["ARCHIVE_PREFIX"]), month, month, []) is not None
    html = write_report(state, tmp_path / "unknown.html")
    page = read(html)
    sales = {row[1]: row[4:] for row in rows_of(page, "table-sales-USD")}  # Sales, Estimated earnings: data-value, else the text
    assert sales == {"Paid": ["1.99", "—"], "Free": ["0", "—"], "Garbled": ["—", "—"]}
    ((_, transactions, units, total_sales, earnings),) = rows_of(page, "table-summary")
    assert (transactions, units, total_sales, earnings) == ("3", "3", "1.99", "—")
    assert ">1.99*</td>" in html.split('id="table-summary"')[1].split("</table>")[0]  # the known parts only, marked
    assert "—" not in html.split('id="table-units"')[1].split("</table>")[0]  # every app's units parse


def test_months_are_checked_before_anything_is_read() -> None:
    bad = invoke("report", "--local", "--from", "2024-13")
    assert bad.exit_code == 2 and "not a month (YYYY-MM)" in bad.output
    reversed_ = invoke("report", "--local", "--from", "2024-05", "--to", "2024-01")
    assert reversed_.exit_code == 2 and "--from 2024-05 is after --to 2024-01" in reversed_.output
