"""Estimated monthly Lambda cost of the daily runs, at the template's memory size, from the measured run duration."""

from __future__ import annotations

import math

from bench import daily
from bench.common import Bench, Row, median
from infra.template.load import Context, load_template, resource

NAME = "cost"
PRICE_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}  # USD, us-east-1, free tier not counted
PRICE_PER_REQUEST = 0.20 / 1_000_000
RUNS_PER_MONTH = 365.25 / 12  # the schedule runs once a day
TARGET = 0.01


def function_size() -> tuple[int, str]:
    """MemorySize (MB) and architecture of the archiver function, as template.yaml configures them."""
    template = load_template()
    context = Context.for_template(template, physical_ids={"ArchiveBucket": "bucket", "ArchiverSecret": "secret"})
    defaults = template.get("Globals", {}).get("Function", {})
    properties = resource(template, "ArchiverFunction")["Properties"]
    memory = context.resolve(properties.get("MemorySize", defaults.get("MemorySize", 128)))
    architectures = context.resolve(properties.get("Architectures", defaults.get("Architectures", ["x86_64"])))
    return int(memory), str(architectures[0])


def run(bench: Bench) -> list[Row]:
    """Cost = runs × billed seconds × GB × price per GB-s + runs × price per request (cold start included)."""
    runs = daily.measure(bench)
    # A daily run starts cold: the whole fresh process (interpreter, imports, clients, handler) counts as billed time.
    seconds = math.ceil(median(r.child.wall_s for r in runs) * 1000) / 1000
    memory, architecture = function_size()
    gigabytes, price = memory / 1024, PRICE_PER_GB_SECOND[architecture]
    compute = RUNS_PER_MONTH * seconds * gigabytes * price
    requests = RUNS_PER_MONTH * PRICE_PER_REQUEST
    total = compute + requests
    break_even = TARGET / (RUNS_PER_MONTH * gigabytes * price)
    size = f"{gigabytes:g} GB ({memory} MB, {architecture})"
    detail = (
        f"{RUNS_PER_MONTH:.2f} runs × {seconds:.3f} s × {size} × ${price:.10f}/GB-s = ${compute:.6f}"
        f" + {RUNS_PER_MONTH:.2f} requests × $0.20/1M = ${requests:.6f} → ${total:.6f}/month;"
        f" the target holds for daily runs up to {break_even:.0f} s"
    )
    figure = f"${total:.5f}/month"
    return [Row(NAME, "Lambda cost of daily runs", figure, "—", None, f"≤ ${TARGET}/month", total <= TARGET, detail)]
