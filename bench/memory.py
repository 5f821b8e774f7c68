"""Peak RSS of archiving one month (download, sniff, raw copy, curated re-encode, uploads), fresh process each time."""

from __future__ import annotations

from archiver.core.months import Month
from bench.common import Bench, Row, mb, median, report_file
from bench.local import run_handler

NAME = "memory"
SIZES = (500_000, 2_000_000)
QUICK_SIZES = (2_000, 8_000)
FACTOR = 4  # the baseline is the same at 4× smaller input
LIMIT_MB = 150.0  # at the largest size
MAX_GROWTH = 1.2  # RSS at 4× input over RSS at 1×


def run(bench: Bench) -> list[Row]:
    """Archive generated months of each size with the real handler; peak RSS per size is the median."""
    sizes = QUICK_SIZES if bench.quick else SIZES
    every = sorted({*sizes, *(size // FACTOR for size in sizes)})
    months = {rows: Month(2024, 1).shift(index) for index, rows in enumerate(every)}
    files = {(m.year, m.month): report_file(rows, m) for rows, m in months.items()}
    stack = bench.local.stack(files=files)
    peaks: dict[int, list[float]] = {rows: [] for rows in every}
    for _ in range(bench.times(3)):
        for rows in every:
            result = run_handler(stack, {"months": [str(months[rows])], "force": True})
            if result.error or result.statuses != {"archived": 1} or result.rows != rows:
                raise RuntimeError(f"archiving {rows} rows did not archive them all: {result}")
            peaks[rows].append(mb(result.peak_rss_kib))
    out: list[Row] = []
    for size in sizes:
        peak, base = median(peaks[size]), median(peaks[size // FACTOR])
        ratio = peak / base
        largest = size == max(sizes)
        target = f"≤ {LIMIT_MB:.0f} MB, ≤ {MAX_GROWTH}×" if largest else f"≤ {MAX_GROWTH}×"
        met = ratio <= MAX_GROWTH and (not largest or peak <= LIMIT_MB)
        out.append(
            Row(
                NAME,
                f"peak RSS, {size:,} rows",
                f"{peak:.1f} MB",
                f"{base:.1f} MB at {size // FACTOR:,} rows",
                ratio,
                target,
                met,
                f"{files[(months[size].year, months[size].month)].stat().st_size / 1e6:.1f} MB ZIP; runs: "
                + ", ".join(f"{v:.1f}" for v in peaks[size]),
            )
        )
    return out
