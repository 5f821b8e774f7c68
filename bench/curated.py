"""Rows per second of the curated conversion against a bare csv.reader → csv.writer loop over the same file."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, cast

from archiver.core.months import Month
from archiver.formats.sales_csv import CuratedDialect, curate
from bench.common import Bench, Row, interleaved, median, paired_ratio, report_file, series

NAME = "curated"
ROWS, QUICK_ROWS = 500_000, 5_000
MONTH = Month(2024, 2)
TARGET = 0.8


@contextmanager
def _csv_bytes(source: Path) -> Iterator[IO[bytes]]:
    """The decompressed CSV of a gzip or single-member ZIP file."""
    with open(source, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        with gzip.open(source, "rb") as packed:
            yield cast(IO[bytes], packed)
        return
    with zipfile.ZipFile(source) as archive, archive.open(archive.namelist()[0]) as member:
        yield member


def bare_loop(source: Path, target: BinaryIO) -> int:
    """gzip/zip → csv.reader → csv.writer → gzip (same compression level as the function), nothing else."""
    with _csv_bytes(source) as raw, gzip.GzipFile(fileobj=target, mode="wb", compresslevel=6, mtime=0) as packed:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        out = io.TextIOWrapper(packed, encoding="utf-8", newline="")
        writer = csv.writer(out, dialect=CuratedDialect)  # the same output format as the function
        rows = -1  # the header
        for row in reader:
            writer.writerow(row)
            rows += 1
        out.flush()
        out.detach()
    return rows


def run(bench: Bench) -> list[Row]:
    """Convert the same generated report both ways, in alternating pairs, into files in a temporary directory."""
    rows = QUICK_ROWS if bench.quick else ROWS
    source = report_file(rows, MONTH)

    def timed(convert: str) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch, open(Path(scratch) / "out.csv.gz", "wb") as target:
            started = time.perf_counter()
            done = curate(source, target).rows if convert == "curate" else bare_loop(source, target)
            elapsed = time.perf_counter() - started
        assert done == rows, (convert, done, rows)
        return rows / elapsed / 1000

    speeds = interleaved({"curate": lambda: timed("curate"), "bare": lambda: timed("bare")}, bench.times(5))
    ours, bare = speeds["curate"], speeds["bare"]
    ratio = paired_ratio(ours, bare)
    detail = f"{rows:,} rows, {source.stat().st_size / 1e6:.1f} MB ZIP; curate k rows/s: {series(ours)}; bare loop: {series(bare)}"
    figure, baseline = f"{median(ours):.0f} k rows/s", f"{median(bare):.0f} k rows/s"
    return [Row(NAME, "curated conversion", figure, baseline, ratio, f"≥ {TARGET}×", ratio >= TARGET, detail)]
