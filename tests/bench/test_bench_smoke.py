"""Smoke test of the benchmarks: `python -m bench --quick` runs each one at tiny sizes and produces its rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# Benchmarks whose figures are ratios against a baseline measured in the same run.
WITH_BASELINE = {"memory", "raw_copy", "curated", "cold_start", "backfill", "local_query"}


def test_every_benchmark_runs_and_prints_its_rows(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["quick"] is True and result["failed"] == []
    rows = result["rows"]
    assert {row["benchmark"] for row in rows} == set(BENCHMARKS)
    counts = {name: sum(r["benchmark"] == name for r in rows) for name in BENCHMARKS}
    assert counts == {"memory": 2, "raw_copy": 2, "curated": 1, "cold_start": 1, "backfill": 1, "daily": 4, "cost": 1, "local_query": 3}
    for row in rows:
        assert row["figure"] and row["target"] and isinstance(row["met"], bool)
        assert row["measure"] in done.stdout and row["figure"] in done.stdout
        if row["benchmark"] in WITH_BASELINE:
            assert row["baseline"] != "—" and row["ratio"] > 0
    daily = {r["measure"]: r["figure"] for r in rows if r["benchmark"] == "daily"}
    assert daily["report-link requests per daily run"] == "3"
    assert daily["S3 writes per daily run"] == daily["Glue writes per daily run"] == "0"  # the archive's: the lease's apart
    assert daily["lease writes per daily run"] == "5"  # taken, renewed before each of the 3 months, released
