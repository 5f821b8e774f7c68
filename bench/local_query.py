"""The local Athena stand-in's query cost: `SELECT 1` and a real aggregate, each as the query tool runs them (fresh process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from bench.backfill import backfilled
from bench.common import REPO, Bench, Row, interleaved, median, paired_ratio, series
from infra.local.athena import LocalAthena
from infra.local.config import DATABASE, TABLE

NAME = "local_query"
SELECT_ONE_TARGET = 1.0  # seconds, the whole command
AGGREGATE = "Revenue and earnings by app and currency per month"
IMPORTS = "import duckdb, sqlglot"


def seconds(command: list[str], env: dict[str, str]) -> float:
    """Wall time of one command in a fresh process."""
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(command: list[str], env: dict[str, str]) -> Callable[[], float]:
    """A measurement of one command."""
    return lambda: seconds(command, env)


def run(bench: Bench) -> list[Row]:
    """`SELECT 1` and the revenue query through `python -m infra.local.athena`; the aggregate again in a loaded stand-in."""
    stack = backfilled(bench)
    # Bytecode caches warm, as after `make` (which lets Python write them).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"AWS_ENDPOINT_URL": stack.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    tool = [sys.executable, "-m", "infra.local.athena", "--endpoint", stack.endpoint]
    commands = {
        "select1": [*tool, "SELECT 1"],
        "aggregate": [*tool, "--named", AGGREGATE],
        "imports": [sys.executable, "-c", IMPORTS],
    }
    for command in commands.values():  # write any missing .pyc files first
        seconds(command, env)
    walls = interleaved({name: measure(command, env) for name, command in commands.items()}, bench.times(7))
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as athena:
        sql = athena.named_queries()[AGGREGATE]
        athena.query(sql)  # loads the data once
        again = interleaved({"aggregate": lambda: timed(athena, sql), "select1": lambda: timed(athena, "SELECT 1")}, bench.times(7))
        files = athena.files
    one, agg, imports = walls["select1"], walls["aggregate"], walls["imports"]
    return [
        Row(
            NAME, "`SELECT 1`, whole command", f"{median(one):.2f} s", f"{median(imports):.2f} s: `{IMPORTS}` in a fresh interpreter",
            paired_ratio(one, imports), f"< {SELECT_ONE_TARGET:.0f} s", median(one) < SELECT_ONE_TARGET,
            f"seconds: {series(one, 2)}; imports: {series(imports, 2)}; no Glue or S3 call",
        ),
        Row(
            NAME, f"revenue query over {files} curated objects, whole command", f"{median(agg):.2f} s",
            f"{median(one):.2f} s: `SELECT 1`", paired_ratio(agg, one), "—", True,
            f"seconds: {series(agg, 2)}; the objects are downloaded once per process",
        ),
        Row(
            NAME, "the same query again, data loaded", f"{median(again['aggregate']) * 1000:.0f} ms",
            f"{median(again['select1']) * 1000:.1f} ms: `SELECT 1`", paired_ratio(again["aggregate"], again["select1"]), "—", True,
            f"ms: {series([s * 1000 for s in again['aggregate']], 0)}; no S3 call",
        ),
    ]  # fmt: skip


def timed(athena: LocalAthena, sql: str) -> float:
    """Seconds one query takes in a loaded stand-in."""
    started = time.perf_counter()
    athena.query(sql)
    return time.perf_counter() - started
