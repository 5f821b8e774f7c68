"""`python -m soak --runs N --minutes M --seed S`: run the soak, print the totals, exit 1 on any violation."""

from __future__ import annotations

import argparse
import signal
import sys
from collections import Counter

from soak import coverage
from soak.loop import Soak, Totals


def summary(seed: int, totals: Totals) -> str:
    """The soak's figures: runs, kills, faults by kind, statuses, violations by invariant with the first occurrence."""
    aws = Counter({k: n for k, n in totals.faults.items() if k.startswith("aws:") and n})
    appstore = Counter({k: n for k, n in totals.faults.items() if k.startswith("appstore:") and n})
    per_run = totals.seconds / max(1, totals.runs + 1)
    lines = [
        f"seed {seed}: {totals.runs} runs + 1 final clean run in {totals.seconds:.0f} s ({per_run:.2f} s a run)",
        f"kills: {totals.kills}; runs without faults: {totals.clean_runs}",
        f"AWS faults injected: {sum(aws.values())} ({', '.join(f'{k[4:]} {n}' for k, n in sorted(aws.items()))})",
        f"Appstore faults injected: {sum(appstore.values())} ({', '.join(f'{k[9:]} {n}' for k, n in sorted(appstore.items()))})",
        f"month results: {dict(sorted(totals.statuses.items()))}",
        *coverage.lines(totals.exercised, totals.operations, totals.calls),
        f"violations: {len(totals.violations)}",
    ]
    first: dict[int, int] = {}
    counts: Counter[int] = Counter()
    for number, violation in totals.violations:
        counts[violation.invariant] += 1
        first.setdefault(violation.invariant, number)
    for invariant in sorted(counts):
        run = first[invariant]
        lines.append(f"  invariant {invariant}: {counts[invariant]} (first in run {run}; replay: --seed {seed} --runs {run})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the bounds, run the soak, print the summary."""
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--runs", type=int, default=2000, help="runs to draw (default 2000)")
    parser.add_argument("--minutes", type=float, default=30.0, help="stop drawing runs after this long (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="the seed; with --runs N it replays runs 1..N (default 1)")
    parser.add_argument("--max-violations", type=int, default=0, help="stop drawing runs after this many violations (0: never)")
    parser.add_argument("--broken", default=None, help=argparse.SUPPRESS)  # a deliberately broken archiver, for the soak's own test
    parser.add_argument("--harsh", action="store_true", help="every run restates a month and fails every raw upload")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a terminated soak still stops its servers (the with block)
    with Soak(args.seed, broken=args.broken, harsh=args.harsh, report=lambda line: print(line, flush=True)) as soak:
        totals = soak.run(args.runs, args.minutes, args.max_violations)
    print(summary(args.seed, totals), flush=True)
    return 1 if totals.violations else 0


if __name__ == "__main__":
    sys.exit(main())
