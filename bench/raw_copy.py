"""Throughput of the raw copy path (download into a spool file, then upload) against plain requests + upload_fileobj."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

import requests

from archiver.amazon.download import download
from archiver.core.months import Month
from archiver.storage.objects import put_file
from archiver.storage.store import ArchiveStore
from bench.common import Bench, Row, interleaved, median, paired_ratio, report_file, series
from bench.local import FileEmulator
from infra.local.stack import BUCKET

NAME = "raw_copy"
ROWS, QUICK_ROWS = 2_000_000, 8_000
MONTH = Month(2024, 3)
TARGET = 0.9


def copies(bench: Bench, rows: int) -> tuple[dict[str, Callable[[], float]], int, list[float]]:
    """The three ways to copy the served report into the bucket, each returning MB/s; the size; download shares."""
    path = report_file(rows, MONTH)
    stack = bench.local.stack(files={(MONTH.year, MONTH.month): path})
    emulator = stack.emulator
    assert isinstance(emulator, FileEmulator)
    key, size, s3 = emulator.object_key(MONTH.year, MONTH.month), path.stat().st_size, stack.clients.s3
    store = ArchiveStore(s3, BUCKET, "appstore/")
    session = requests.Session()
    session.trust_env = False  # as the function's download session
    shares: list[float] = []

    def archiver() -> float:
        """archiver.amazon.download.download into a spool file, then archiver.storage.objects.put_file: the function's own path."""
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch, open(Path(scratch) / "raw", "wb") as target:
            started = time.perf_counter()
            fetched = download(session, emulator.presign(key), ("127.0.0.1",), target)
            downloaded = time.perf_counter()
            metadata = {"sha256": fetched.sha256, "txn": "bench"}
            put_file(store, store.raw_prefix(MONTH) + fetched.name, fetched.path, metadata, "application/zip")
            finished = time.perf_counter()
        assert fetched.size == size
        shares.append((downloaded - started) / (finished - started))
        return size / (finished - started) / 1e6

    def spooled() -> float:
        """A plain requests stream into a file, then upload_fileobj of that same file (boto3 defaults)."""
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch, open(Path(scratch) / "raw", "w+b") as spool:
            started = time.perf_counter()
            with requests.get(emulator.presign(key), stream=True, timeout=60) as response:
                response.raise_for_status()
                for chunk in response.iter_content(1024 * 1024):
                    spool.write(chunk)
            spool.seek(0)
            s3.upload_fileobj(spool, BUCKET, f"bench/spooled/{MONTH}.zip")
            return size / (time.perf_counter() - started) / 1e6

    def piped() -> float:
        """A plain requests stream piped straight into upload_fileobj: download and upload overlap."""
        started = time.perf_counter()
        with requests.get(emulator.presign(key), stream=True, timeout=60) as response:
            response.raise_for_status()
            s3.upload_fileobj(cast(IO[bytes], response.raw), BUCKET, f"bench/piped/{MONTH}.zip")
        return size / (time.perf_counter() - started) / 1e6

    return {"archiver": archiver, "spooled": spooled, "piped": piped}, size, shares


def run(bench: Bench) -> list[Row]:
    """Copy the same served report all three ways once per round (rotating the order); MB/s is the median."""
    rows = QUICK_ROWS if bench.quick else ROWS
    measures, size, shares = copies(bench, rows)
    speeds = interleaved(measures, bench.times(15))
    ours = speeds["archiver"]
    out: list[Row] = []
    for name, label in (("spooled", "stream into a file, upload_fileobj of it"), ("piped", "stream piped into upload_fileobj")):
        ratio = paired_ratio(ours, speeds[name])
        detail = f"baseline: plain requests {label}; MB/s: {series(speeds[name])}"
        if name == "spooled":
            detail = (
                f"{size / 1e6:.1f} MB ZIP ({rows:,} rows) from the emulator into moto; archiver MB/s: {series(ours)}; "
                f"download = {median(shares):.0%} of the archiver's time; " + detail
            )
        figure, baseline = f"{median(ours):.1f} MB/s", f"{median(speeds[name]):.1f} MB/s ({name})"
        out.append(Row(NAME, f"raw copy vs {name} copy", figure, baseline, ratio, f"≥ {TARGET}×", ratio >= TARGET, detail))
    return out
