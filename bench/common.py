"""Shared pieces: result rows, the run's options and shared state, medians, and generated report files."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.local.salesdata import DEFAULT_SEED, MonthOptions, SalesData

REPO = Path(__file__).resolve().parents[1]
FUNCTION_DIR = REPO / "functions" / "archiver"
DATA_DIR = REPO / "bench" / "data"

if TYPE_CHECKING:
    from archiver.core.months import Month
    from bench.local import Local


@dataclass(frozen=True)
class Row:
    """One figure, its baseline measured in the same run, their ratio, the target and whether it is met."""

    benchmark: str
    measure: str
    figure: str
    baseline: str
    ratio: float | None
    target: str
    met: bool
    detail: str = ""


@dataclass
class Bench:
    """Options of this run, the local stack, and results benchmarks share (daily run → cost)."""

    quick: bool
    repeat: int | None
    local: Local
    shared: dict[str, Any] = field(default_factory=dict)

    def times(self, default: int) -> int:
        """How many times to measure: --repeat, else 1 with --quick, else the benchmark's default."""
        if self.repeat is not None:
            return self.repeat
        return 1 if self.quick else default


def median(values: Iterable[float]) -> float:
    """The median of the measurements."""
    return float(statistics.median(list(values)))


def mb(kib: float) -> float:
    """Kibibytes (ru_maxrss on Linux) as megabytes (10^6 bytes)."""
    return kib * 1024 / 1e6


def report_file(rows: int, month: Month) -> Path:
    """A month's ZIP report of `rows` rows from the seeded generator, written once into bench/data/."""
    path = DATA_DIR / f"sales_{month.year:04d}_{month.mm}_{rows}rows_seed{DEFAULT_SEED}.zip"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        print(f"  generating {path.relative_to(REPO)} ...", file=sys.stderr, flush=True)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as out:
            SalesData(seed=DEFAULT_SEED).write_report(out, month.year, month.month, MonthOptions(rows=rows))
        os.replace(partial, path)
    return path


def interleaved(measures: dict[str, Callable[[], float]], times: int) -> dict[str, list[float]]:
    """Measure each thing once per round, rotating which goes first; the measurements of each, by name."""
    names = list(measures)
    out: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(times):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            out[name].append(measures[name]())
    return out


def paired_ratio(a: list[float], b: list[float]) -> float:
    """The median of the per-round ratios a/b: drift on a shared, noisy machine cancels within each round."""
    return median(x / y for x, y in zip(a, b, strict=True))


def series(values: Iterable[float], digits: int = 1) -> str:
    """The single measurements, for the detail line."""
    return ", ".join(f"{v:.{digits}f}" for v in values)
