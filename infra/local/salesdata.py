"""Deterministic sales data for a fictional Appstore developer, written as Amazon writes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from infra.local import salesfiles
from infra.local.salescatalog import (
    CATALOG,
    COMPRESSIONS,
    DEFAULT_MISSING_MONTHS,
    DEFAULT_OPTIONS,
    DEFAULT_SEED,
    EARNINGS_SHARE,
    FIELDS,
    FIRST_MONTH,
    MARKETPLACES,
    PROMOTION_ID,
    RENAMED,
    SEED16,
    VARIANTS,
    GroupTotals,
    MonthOptions,
    MonthTotals,
)
from infra.local.salesfiles import csv_name, file_name, rows_for_size
from infra.local.salesrows import SalesRows

__all__ = [
    "CATALOG",
    "COMPRESSIONS",
    "DEFAULT_MISSING_MONTHS",
    "DEFAULT_OPTIONS",
    "DEFAULT_SEED",
    "EARNINGS_SHARE",
    "FIELDS",
    "FIRST_MONTH",
    "MARKETPLACES",
    "PROMOTION_ID",
    "RENAMED",
    "SEED16",
    "VARIANTS",
    "GroupTotals",
    "MonthOptions",
    "MonthTotals",
    "SalesData",
    "SalesRows",
    "csv_name",
    "file_name",
    "main",
    "rows_for_size",
]


class SalesData(SalesRows):
    """Seeded generator of monthly sales rows, headers, files and expected totals."""

    def csv_chunks(self, year: int, month: int, options: MonthOptions) -> Iterator[str]:
        """The CSV text, one chunk per line (header first), RFC 4180 quoted."""
        return salesfiles.csv_chunks(self, year, month, options)

    def write_report(self, out: IO[bytes], year: int, month: int, options: MonthOptions = DEFAULT_OPTIONS) -> None:
        """Stream a month's compressed report into a seekable binary file."""
        salesfiles.write_report(self, out, year, month, options)


def main(argv: list[str] | None = None) -> int:
    """Write one month's report file, e.g. a 50 MB one for load tests."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", help="file to write")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--month", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--size-mb", type=float, default=None, help="aim for at least this compressed size")
    parser.add_argument("--variant", choices=VARIANTS, default="seed16")
    parser.add_argument("--compression", choices=COMPRESSIONS, default="zip")
    parser.add_argument("--bom", action="store_true")
    parser.add_argument("--multi-member", action="store_true")
    args = parser.parse_args(argv)
    rows = rows_for_size(int(args.size_mb * 1_000_000)) if args.size_mb else args.rows
    options = MonthOptions(args.variant, args.compression, args.bom, rows=rows, multi_member=args.multi_member)
    with open(args.out, "wb") as out:
        SalesData(seed=args.seed).write_report(out, args.year, args.month, options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
