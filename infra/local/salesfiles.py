"""Write a month's sales rows as Amazon serves them: CSV text, ZIP or (multi-member) gzip files, and their names."""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import zipfile
from collections.abc import Iterator
from typing import IO

from infra.local.salescatalog import DEFAULT_OPTIONS, MonthOptions
from infra.local.salesrows import SalesRows


def csv_name(year: int, month: int) -> str:
    """The CSV member name inside the archive, e.g. sales_2024_03.csv."""
    return f"sales_{year:04d}_{month:02d}.csv"


def file_name(year: int, month: int, compression: str) -> str:
    """The served file name, e.g. sales_2024_03.zip or sales_2024_03.gz."""
    return f"sales_{year:04d}_{month:02d}." + ("zip" if compression == "zip" else "gz")


def rows_for_size(target_bytes: int) -> int:
    """A row count whose compressed file is at least target_bytes (about 33 bytes a row)."""
    return target_bytes // 30 + 1


def csv_chunks(data: SalesRows, year: int, month: int, options: MonthOptions) -> Iterator[str]:
    """The CSV text, one chunk per line (header first), RFC 4180 quoted."""
    columns = data.columns(options.variant, year, month)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # CRLF terminator: quote any CR or LF

    def line(values: list[str]) -> str:
        """One CSV record with the chosen line ending."""
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()[:-2] + options.line_ending

    yield ("\ufeff" if options.bom else "") + line([name for name, _ in columns])
    if options.header_only:
        return
    for row in data.rows(year, month, rows=options.rows, revision=options.revision):
        if options.variant == "renamed":  # the old files' US date order
            date, rest = row["transaction_time"].split(" ", 1)
            row["transaction_time"] = f"{date[5:7]}/{date[8:10]}/{date[:4]} {rest}"
        promo = f"PROMO-{row['invoice_id'][-3:]}" if row["invoice_id"].endswith("7") else ""
        yield line([row[key] if key else promo for _, key in columns])


def write_report(data: SalesRows, out: IO[bytes], year: int, month: int, options: MonthOptions = DEFAULT_OPTIONS) -> None:
    """Stream a month's compressed report into a seekable binary file."""
    chunks = csv_chunks(data, year, month, options)
    if options.compression == "zip":
        info = zipfile.ZipInfo(csv_name(year, month), date_time=(year, month, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with zipfile.ZipFile(out, "w") as archive, archive.open(info, "w") as member:
            for chunk in chunks:
                member.write(chunk.encode("utf-8"))
        return
    mtime = calendar.timegm((year, month, 1, 0, 0, 0))
    if not options.multi_member:
        with gzip.GzipFile(csv_name(year, month), "wb", fileobj=out, mtime=mtime) as single:
            for chunk in chunks:
                single.write(chunk.encode("utf-8"))
        return
    # Several members: the header alone first (what a one-member reader would stop after),
    # then the rows split in two halves.
    count = 0 if options.header_only else data.row_count(year, month, options.rows)
    split = count // 2 + 1
    for number, lines in enumerate((1, split, None)):
        with gzip.GzipFile(csv_name(year, month), "wb", fileobj=out, mtime=mtime + number) as part:
            for taken, chunk in enumerate(chunks, start=1):
                part.write(chunk.encode("utf-8"))
                if lines is not None and taken >= lines:
                    break
