"""The soak's drawn kill points: the run is killed once, as it sends the drawn call, and never on another key."""

from __future__ import annotations

import random

from infra.local.faultproxy import RESET, UNACKED, name_call
from soak.awsfaults import AwsFaults
from soak.draw import KILL_POINTS, AwsPlan, Draw

BUCKET, PREFIX = "archive", "appstore/"


def test_a_kill_point_kills_once_as_the_raw_upload_is_sent() -> None:
    kills: list[int] = []
    faults = AwsFaults(BUCKET, PREFIX, kill=lambda: kills.append(1))
    faults.arm(AwsPlan(kill_on=("s3.PutObject", "raw/", "before")), random.Random(0))
    curated = name_call("PUT", f"/{BUCKET}/{PREFIX}sales/year=2026/month=11/sales_2026_11.csv.gz", {})
    raw = name_call("PUT", f"/{BUCKET}/{PREFIX}raw/sales/year=2026/month=11/sales_2026_11.zip", {})
    assert faults(curated) is None and kills == []
    assert faults(raw) == RESET and kills == [1]  # killed before S3 has it
    assert faults(raw) is None and kills == [1]  # once a run
    assert faults.killed_on == ("s3.PutObject", RESET)


def test_a_kill_after_the_call_lets_it_reach_s3() -> None:
    kills: list[int] = []
    faults = AwsFaults(BUCKET, PREFIX, kill=lambda: kills.append(1))
    faults.arm(AwsPlan(kill_on=("s3.CompleteMultipartUpload", "raw/", "after")), random.Random(0))
    complete = name_call("POST", f"/{BUCKET}/{PREFIX}raw/sales/year=2026/month=11/sales_2026_11.zip?uploadId=1", {})
    assert faults(complete) == UNACKED and kills == [1]  # forwarded (committed), its answer never returns


def test_the_generator_draws_every_kill_point() -> None:
    from archiver.core.months import Month

    months = list(Month(2026, 7).through(Month(2026, 11)))
    draw = Draw(1, months, {"source": "aws.events"})
    drawn = {plan.aws.kill_on for plan in (draw.run(n, False) for n in range(1, 3001))}
    assert drawn - {None} == set(KILL_POINTS)


def test_runs_after_a_kill_are_sometimes_stopped_before_their_months() -> None:
    from archiver.core.months import Month

    draw = Draw(1, list(Month(2026, 7).through(Month(2026, 11))), {"source": "aws.events"})
    plans = [draw.run(n, True) for n in range(1, 1001)]
    assert {plan.stop for plan in plans} == {"", "glue table", "token"}
    get_table = name_call("POST", "/", {"X-Amz-Target": "AWSGlue.GetTable"})
    for plan in plans:
        if plan.stop == "glue table":  # every GetTable call fails, whatever key a persistent fault was drawn for
            faults = AwsFaults(BUCKET, PREFIX, kill=lambda: None)
            faults.arm(plan.aws, random.Random(0))
            assert all(faults(get_table) is not None for _ in range(5))
        if plan.stop == "token":  # first in line: no other token fault is answered before it
            assert plan.appstore[0] == ("token", "500", 6, {}) and [f[0] for f in plan.appstore].count("token") == 1
    assert not any(plan.stop for plan in (draw.run(n, False) for n in range(301, 601)))  # only right after a kill
