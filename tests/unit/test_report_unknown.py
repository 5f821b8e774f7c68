"""A NULL sum (no parseable value in the archived rows) is unknown, never 0: "—" in the tables, a marked total, no chart point."""

from __future__ import annotations

import re
from typing import Any

from cli.query import Result
from cli.report import build
from cli.report.archivefigures import restatements_section
from cli.report.collect import APPROVED, BY_SKU, REVENUE, Report, collect
from cli.report.figure import Figure, Section
from cli.report.salesfigures import earnings_section, sales_section
from cli.report.topfigures import top_section
from tests.cli.reportpage import read, rows_of
from tests.unit.test_report_collect import APPROVED_COLUMNS, FETCH_COLUMNS, SALES_COLUMNS, Recorded, archive, period

# 2024-01: app A known, app B with no parseable units, sales or earnings (NULL sums), app C a real 0; 2024-02: app A
# with sales but no parseable earnings. Athena answers text, a NULL as None.
SALES = [
    ("2024", "01", "A", "USD", "2", "2", "1.980000", "1.380000"),
    ("2024", "01", "B", "USD", "1", None, None, None),
    ("2024", "01", "C", "USD", "1", "0", "0.000000", "0.000000"),
    ("2024", "02", "A", "USD", "1", "1", "0.990000", None),
]
SKUS = [(*row, f"SKU-{row[2]}", "amazon.com") for row in SALES]
# 2024-02 fetched twice: the second version's sales have no parseable value, so its change is unknown too.
FETCHES = [
    ("2024", "02", "1", "2024-03-01 06:00:00", "ab", "USD", "1", "1", "0.990000", None, None, None, None, None),
    ("2024", "02", "2", "2024-03-09 06:00:00", "cd", "USD", "1", "1", None, None, "0", "0", None, None),
]
EM_DASH = "—"


def report() -> Report:
    ask: Recorded = archive([period("sales", "2024-01"), period("sales", "2024-02"), period("earnings", "2024-01")])
    ask.answers[REVENUE] = Result(SALES_COLUMNS, SALES)
    ask.answers[BY_SKU] = Result([*SALES_COLUMNS, "vendor_sku", "marketplace"], SKUS)
    ask.answers[APPROVED] = Result(APPROVED_COLUMNS, [("2024", "01", "USD", "1", "1.00"), ("2024", "02", "USD", "1", None)])
    ask.view = Result(FETCH_COLUMNS, FETCHES)
    return collect(ask, "db", "sales", "x")


def figure(section: Section, figure_id: str) -> Figure:
    (found,) = [f for f in section.figures if f.id == figure_id]
    return found


def points(item: Figure) -> list[dict[str, Any]]:
    assert item.spec is not None
    return list(item.spec["data"]["values"])


def cells(html: str, table: str) -> list[list[tuple[str, str, str]]]:
    """A table's body rows as (text shown, data-value or "", title or "") per cell."""
    body = html.split(f'<table id="table-{table}">')[1].split("</table>")[0].split("<tbody>")[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body):
        found = []
        for attrs, text in re.findall(r"<td([^>]*)>(.*?)</td>", row):
            value, title = re.search(r'data-value="([^"]*)"', attrs), re.search(r'title="([^"]*)"', attrs)
            found.append((text, value.group(1) if value else "", title.group(1) if title else ""))
        rows.append(found)
    return rows


def test_a_null_sum_is_an_em_dash_with_why_and_a_zero_is_zero() -> None:
    html = build.html(report(), "now")
    sales = {row[1][0]: row for row in cells(html, "sales-USD") if row[0][0] == "2024-01"}
    # Month, App, Transactions, Units, Sales, Estimated earnings
    assert [c[0] for c in sales["B"][3:]] == [EM_DASH] * 3
    assert all("no parseable value" in c[2] and c[1] == "" for c in sales["B"][3:])
    assert [(c[0], c[1]) for c in sales["C"][3:]] == [("0", "0"), ("0.00", "0"), ("0.00", "0")]
    units = {row[1][0]: row[4] for row in cells(html, "units") if row[0][0] == "2024-01"}
    assert units["B"][0] == EM_DASH and units["C"][:2] == ("0", "0")
    top = {row[1][0]: row for row in cells(html, "top-apps")}  # Rank, App, Units, Transactions, Sales (USD)
    assert top["B"][2][0] == EM_DASH and top["B"][4][0] == EM_DASH and top["C"][4][:2] == ("0.00", "0")
    assert f"{EM_DASH} : no parseable value in the archived rows" in html.split("<h2>")[0]  # said before the first table


def test_a_total_with_an_unknown_part_is_the_known_parts_marked_and_an_all_unknown_total_a_dash() -> None:
    html = build.html(report(), "now")
    ((currency, transactions, units, sales, earnings),) = cells(html, "summary")
    assert currency[0] == "USD" and transactions[:2] == ("5", "5")
    # Units 2 + ? + 0 + 1, sales 1.98 + ? + 0 + 0.99, earnings 1.38 + ? + 0 + ?: the known parts, marked, never as if ? were 0.
    assert units[:2] == ("3*", "3") and sales[:2] == ("2.97*", "2.97") and earnings[:2] == ("1.38*", "1.38")
    assert "1 of its 4 parts has" in units[2] and "1 of its 4" in sales[2] and "2 of its 4 parts have" in earnings[2]
    page = read(html)
    assert rows_of(page, "table-summary")[0][3] == "2.97"  # data-value: the known parts' exact sum
    # Per month, estimated is the sum over apps: 2024-01 lacks app B's (marked), 2024-02 has no known part (a dash).
    earnings_rows = {row[0][0]: row for row in cells(html, "earnings-USD")}  # Month, Estimated, Approved, Approved − estimated
    assert earnings_rows["2024-01"][1][:2] == ("1.38*", "1.38") and earnings_rows["2024-01"][2][:2] == ("1.00", "1")
    assert earnings_rows["2024-01"][3][0] == EM_DASH  # no difference against an incomplete estimate
    assert [c[0] for c in earnings_rows["2024-02"][1:]] == [EM_DASH] * 3
    assert "* : the total of the parts with a value only" in html.split("<h2>")[0]  # said before the first table


def test_charts_leave_unknown_values_out_instead_of_drawing_zero() -> None:
    data = report()
    sales = sales_section(data)
    assert {(p["date"], p["series"]) for p in points(figure(sales, "units"))} == {
        ("2024-01-01", "A"),
        ("2024-01-01", "C"),
        ("2024-02-01", "A"),
    }
    assert {(p["date"], p["series"], p["value"]) for p in points(figure(sales, "sales-USD"))} == {
        ("2024-01-01", "A", 1.98),
        ("2024-01-01", "C", 0.0),  # a real 0 is drawn
        ("2024-02-01", "A", 0.99),
    }
    assert "left out of the chart" in figure(sales, "sales-USD").note
    earnings = points(figure(earnings_section(data), "earnings-USD"))
    assert [(p["date"], p["series"]) for p in earnings] == [("2024-01-01", "Approved (earnings report)")]
    top = points(figure(top_section(data), "top-apps"))
    assert {p["name"] for p in top} == {"A", "C"}
    fetches = points(figure(restatements_section(data), "restatements-USD"))
    assert [(p["fetch"], p["value"]) for p in fetches] == [(1, 0.99)]


def test_the_restatements_table_tells_an_unknown_total_from_a_change_with_no_earlier_fetch() -> None:
    html = build.html(report(), "now")
    first, second = cells(html, "restatements-USD")  # Month, Fetch, Fetched at, Rows, Units, Sales, Earnings, Sales change
    assert first[5][:2] == ("0.99", "0.99") and first[7][0] == EM_DASH and "no earlier" in first[7][2]
    assert second[5][0] == EM_DASH and "no parseable value" in second[5][2]
    assert second[7][0] == EM_DASH and "no parseable value" in second[7][2]
