"""Reading a written report back: its tables by id (exact values from data-value) and its charts."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from archiver.formats.sales_csv import CuratedDialect


class Tables(HTMLParser):
    """Every table with an id: its rows of cells (a number's data-value, else the text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None  # the open cell's text
        self.exact: str | None = None  # the open cell's data-value
        self.charts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id"):
            self.current = found["id"]
            self.tables[self.current] = []
        elif tag == "tr" and self.current:
            self.tables[self.current].append([])
        elif tag == "td" and self.current:
            self.cell, self.exact = [], found.get("data-value")
        elif tag == "div" and found.get("data-chart"):
            self.charts.append(str(found["data-chart"]))

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None and self.current:
            self.tables[self.current][-1].append(self.exact if self.exact is not None else "".join(self.cell))
            self.cell = None
        elif tag == "table":
            self.current = None


def read(html: str) -> Tables:
    """The page's tables and chart ids."""
    parser = Tables()
    parser.feed(html)
    return parser


def rows_of(page: Tables, table: str) -> list[list[str]]:
    """A table's body rows (the header row has no td)."""
    return [row for row in page.tables[table] if row]


def curated_sums(s3: Any, bucket: str, prefix: str) -> dict[tuple[str, str, str], list[Decimal]]:
    """(month, title, currency) → [transactions, units, sales, estimated earnings], summed over every curated sales row."""
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}sales/").get("Contents", [])
    for item in listed:
        key = item["Key"]
        month = key.split("year=")[1][:4] + "-" + key.split("month=")[1][:2]
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode()
        for row in csv.DictReader(io.StringIO(body), dialect=CuratedDialect):
            total = sums[month, row["title"], row["marketplace_currency"]]
            total[0] += 1
            for i, column in ((1, "units"), (2, "sales_price"), (3, "estimated_earnings")):
                total[i] += Decimal(row[column]) if row[column] else 0
    return sums
