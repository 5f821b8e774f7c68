"""Run the benchmarks and print each one's table: figure, baseline from the same run, ratio, target."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench import backfill, cold_start, cost, curated, daily, local_query, memory, raw_copy
from bench.common import REPO, Bench, Row
from bench.local import Local

# In this order: daily and local_query reuse the backfilled stack, cost reuses the daily runs' durations.
BENCHMARKS: dict[str, ModuleType] = {
    m.NAME: m for m in (memory, raw_copy, curated, cold_start, backfill, daily, cost, local_query)
}  # fmt: skip
RESULTS_DIR = REPO / "bench" / "results"
HEADER = ("benchmark", "measure", "figure", "baseline (same run)", "ratio", "target", "met")


def cells(row: Row) -> tuple[str, ...]:
    """A row's table cells."""
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
    return (row.benchmark, row.measure, row.figure, row.baseline, ratio, row.target, "yes" if row.met else "NO")


def table(rows: list[Row]) -> str:
    """A plain-text table with aligned columns, and each row's detail below it."""
    lines = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    text += [f"  {r.measure}: {r.detail}" for r in rows if r.detail]
    return "\n".join(text)


def markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table (for docs/benchmarks.md)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(cells(r)) + " |" for r in rows])


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; exit 1 if one of them could not run (a missed target is only reported)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one measurement each (smoke test)")
    parser.add_argument("--only", action="append", default=[], help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--repeat", type=int, default=None, help="measurements per figure (default: per benchmark)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here as JSON")
    args = parser.parse_args(argv)
    chosen = [name.strip() for value in args.only for name in value.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    local = Local()
    bench = Bench(quick=args.quick, repeat=args.repeat, local=local)
    rows: list[Row] = []
    failed: list[str] = []
    started = time.perf_counter()
    try:
        for name in (n for n in BENCHMARKS if n in chosen):
            print(f"== {name}", flush=True)
            begun = time.perf_counter()
            try:
                produced = BENCHMARKS[name].run(bench)
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            rows += produced
            print(table(produced) + f"\n({time.perf_counter() - begun:.0f} s)\n", flush=True)
    finally:
        local.close()
    print(f"== summary ({datetime.now(UTC):%Y-%m-%d}, {time.perf_counter() - started:.0f} s)\n{table(rows)}", flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = "latest-quick" if args.quick else "latest"
    (RESULTS_DIR / f"{stem}.md").write_text(markdown(rows) + "\n")
    payload = json.dumps({"quick": args.quick, "failed": failed, "rows": [asdict(r) for r in rows]}, indent=2)
    (RESULTS_DIR / f"{stem}.json").write_text(payload)
    if args.json:
        args.json.write_text(payload)
    if failed:
        print(f"could not run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
