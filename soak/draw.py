"""Draw the soak's runs at random: the event, changes to Amazon's reports, Appstore and AWS faults, budget and kill.

Run N of seed S is drawn from its own `random.Random(f"{S}/{N}")`, and the reports' evolution
depends on the draws only, never on outcomes: the same seed replays the same sequence of runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from archiver.amazon.retry import RETRIES
from archiver.core.months import Month
from soak import hazards
from soak.hazards import Overlap

# The run's time scale: seconds, not Lambda's minutes. A run's budget (the Lambda time left when it starts) is short,
# and so is the margin under which it starts no month, so that a killed run's archive lease (the time left plus a
# margin, see soak.child) expires seconds later and does not stall the soak; a short budget is drawn just above it.
SAFETY_MARGIN, BUDGET, FINAL_BUDGET = 2.0, 15.0, 120.0
SMALL_ROWS, LARGE_ROWS = (20, 400), (3000, 4500)  # large reports cross the soak's multipart threshold
S3_OPERATIONS = (
    "GetObject",
    "HeadObject",
    "ListObjectsV2",
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "DeleteObject",
    "DeleteObjectVersion",
    "ListObjectVersions",
    "ListMultipartUploads",
)
GLUE_OPERATIONS = ("GetTable", "GetPartitions", "GetPartition", "CreatePartition", "UpdatePartition", "BatchCreatePartition")
UPLOADS = ("s3.PutObject", "s3.CreateMultipartUpload", "s3.UploadPart", "s3.CompleteMultipartUpload")
OPERATIONS = tuple(f"s3.{op}" for op in S3_OPERATIONS) + tuple(f"glue.{op}" for op in GLUE_OPERATIONS)
AWS_KINDS = ("500", "SlowDown", "reset", "unacked")
# The writes whose lost answer the month transaction must resolve by reading back: drawn unacknowledged more often.
UNACKED_TARGETS = ("s3.PutObject", "s3.CompleteMultipartUpload", "s3.DeleteObjectVersion", "s3.DeleteObject")
# Kill the run as it sends one of these calls (operation, key under the prefix, before or after S3 has it): the
# transaction's stages, which a kill at a random moment rarely hits.
KILL_POINTS = (
    ("s3.PutObject", "sales/", "before"),  # the pending marker written, the curated upload not yet
    ("s3.PutObject", "raw/", "before"),  # between the curated and the raw upload
    ("s3.CreateMultipartUpload", "raw/", "before"),  # the same, multipart
    ("s3.UploadPart", "raw/", "before"),  # in the middle of a multipart raw upload
    ("s3.PutObject", "raw/", "after"),  # the raw upload committed, its answer never read
    ("s3.CompleteMultipartUpload", "raw/", "after"),
    ("s3.DeleteObjectVersion", "sales/", "before"),  # in the middle of a rollback
    ("s3.DeleteObject", "raw/", "before"),  # removing a raw file served under an older name
    ("glue.CreatePartition", "", "before"),
    ("s3.DeleteObjectVersion", "state/sales/pending/", "before"),  # the month committed and finished, its marker not yet cleared
    ("s3.PutObject", "history/", "before"),  # a history copy in flight: none is left half made, a later run makes it
)
# Calls a run makes only in some states, which a fault drawn on any operation rarely meets: drawn on purpose
# when the state is there. Partition calls when a partition was dropped or moved; recovery after a kill.
PARTITION_CALLS = ("glue.GetPartitions", "glue.GetPartition", "glue.CreatePartition", "glue.UpdatePartition")
RECOVERY_CALLS = ("s3.ListObjectVersions", "s3.DeleteObjectVersion", "s3.ListMultipartUploads", "s3.AbortMultipartUpload", "s3.GetObject")
STOPPED_BY = {"glue table": "GetTable", "token": "token endpoint"}  # what the error of a run each stop stopped names
APPSTORE_FAULTS = {
    "token": ("500", "503", "429", "truncate", "delay"),
    "report": ("500", "503", "429", "invalid_token", "expired_link", "redirect", "truncate", "delay"),
    "download": ("500", "503", "429", "expired_link", "truncate", "corrupt", "delay"),
}


@dataclass
class MonthReport:
    """What Amazon has for one month: rows, compression, and whether a report exists."""

    rows: int
    compression: str = "zip"
    empty: bool = False


@dataclass(frozen=True)
class AwsPlan:
    """AWS faults of one run: a background rate, faults on the n-th call of an operation, a fault on every call of one."""

    rate: float = 0.0
    targeted: tuple[tuple[str, int, str], ...] = ()  # (operation, n-th call, kind)
    persistent: tuple[str, str] | None = None  # (operation or "s3.uploads", kind)
    persistent_key: str = ""  # the persistent fault hits only keys containing this, e.g. "/raw/": between the two uploads
    kill_on: tuple[str, str, str] | None = None  # one of KILL_POINTS: the run is killed as it sends that call
    refused: tuple[str, int, str] | None = None  # (operation, n-th call on keys containing the part, part): see soak.hazards


@dataclass(frozen=True)
class RunPlan:
    """Everything drawn for one run."""

    number: int
    event: dict[str, Any]
    changes: tuple[tuple[str, Month], ...] = ()  # (restate|compression|size|appear|disappear|unregister|relocate, month)
    appstore: tuple[tuple[str, str, int, dict[str, Any]], ...] = ()  # (endpoint, fault, times, options)
    expire_token_at: float | None = None  # seconds into the run
    expired_status: int = 403
    aws: AwsPlan = field(default_factory=AwsPlan)
    budget: float = BUDGET
    kill_at: float | None = None
    clean: bool = False
    stop: str = ""  # after a kill: what stops the run before its months ("glue table" or "token")
    expire_after: float | None = None  # before the run, lifecycle expiry of versions noncurrent this many seconds
    lease_expires: bool = False  # before the run, a killed run's archive lease expires (time passes)
    overlap: Overlap | None = None  # a second invocation started with this one


class Draw:
    """The soak's generator: the reports Amazon holds evolve with the draws; each run is drawn from its own seed."""

    def __init__(self, seed: int, months: list[Month], schedule: dict[str, Any], harsh: bool = False) -> None:
        self.seed, self.months, self.schedule, self.harsh = seed, months, schedule, harsh
        start = random.Random(f"{seed}/start")
        self.reports = {m: MonthReport(start.randint(*SMALL_ROWS)) for m in months}
        self.reports[start.choice(months[:-1])].empty = True  # a month that appears late

    def run(self, number: int, after_kill: bool) -> RunPlan:
        """Draw run `number` and apply its changes to the reports model, with its hazards (soak.hazards)."""
        plan = self._run(number, after_kill)
        if self.harsh:
            return plan
        drawn = hazards.draw(self.seed, number, after_kill, plan.clean, plan.event)
        return replace(
            plan,
            aws=replace(plan.aws, refused=drawn.refused),
            expire_after=drawn.expire_after,
            lease_expires=drawn.lease_expires,
            overlap=drawn.overlap,
        )

    def _run(self, number: int, after_kill: bool) -> RunPlan:
        rng = random.Random(f"{self.seed}/{number}")
        changes = self._changes(rng)
        if self.harsh:  # every run restates a month and fails every raw upload: each change needs a rollback
            month = rng.choice([m for m, r in self.reports.items() if not r.empty])
            return RunPlan(
                number,
                {"months": [str(month)]},
                (*changes, ("restate", month)),
                aws=AwsPlan(persistent=("s3.uploads", "500"), persistent_key="/raw/"),
            )
        clean = rng.random() < (0.5 if after_kill else 0.12)
        if clean:
            return RunPlan(number, self._event(rng), changes, clean=True)
        expire = rng.uniform(0.1, 1.5) if rng.random() < 0.1 else None
        plan = RunPlan(
            number,
            self._event(rng),
            changes,
            appstore=self._appstore(rng),
            expire_token_at=expire,
            expired_status=rng.choice((401, 403)),
            aws=self._aws(rng, self._focus(rng, changes, after_kill)),
            budget=SAFETY_MARGIN + rng.uniform(0.3, 3.0) if rng.random() < 0.15 else BUDGET,
            kill_at=rng.uniform(0.05, 2.5) if rng.random() < 0.12 else None,
        )
        if plan.kill_at is None and rng.random() < 0.1:  # a kill at one of the transaction's stages
            plan = replace(plan, aws=replace(plan.aws, kill_on=rng.choice(KILL_POINTS)))
        if after_kill and rng.random() < 0.4:  # the killed run's transaction must be settled all the same
            return self._stopped(rng, plan)
        return plan

    def _stopped(self, rng: random.Random, plan: RunPlan) -> RunPlan:
        """The run stops before its months: the type's Glue table cannot be read, or the token endpoint keeps failing."""
        if rng.random() < 0.5:  # on every key: a persistent fault drawn for the raw uploads only would spare Glue
            return replace(plan, aws=replace(plan.aws, persistent=("glue.GetTable", "500"), persistent_key=""), stop="glue table")
        others = tuple(fault for fault in plan.appstore if fault[0] != "token")  # a delayed token would still be answered
        return replace(plan, appstore=(("token", "500", RETRIES + 1, {}), *others), stop="token")

    def _event(self, rng: random.Random) -> dict[str, Any]:
        """The schedule payload, {}, months, or from/to, with or without force."""
        roll = rng.random()
        if roll < 0.3:
            return dict(self.schedule)
        event: dict[str, Any] = {}
        if roll < 0.55:
            event["months"] = sorted(str(m) for m in rng.sample(self.months, rng.randint(1, 3)))
        elif roll < 0.85:
            first = rng.randrange(len(self.months))
            event["from"] = str(self.months[first])
            if rng.random() < 0.5:
                event["to"] = str(self.months[rng.randrange(first, len(self.months))])
        if rng.random() < 0.2:
            event["force"] = True
        return event

    def _changes(self, rng: random.Random) -> tuple[tuple[str, Month], ...]:
        """Restatements, compression and size changes, months appearing late or disappearing, partitions dropped or moved."""
        changes: list[tuple[str, Month]] = []
        for month, report in self.reports.items():
            partition = rng.random()  # someone deletes the month's partition, or points it elsewhere (if it exists)
            if partition < 0.05:
                changes.append(("unregister" if partition < 0.03 else "relocate", month))
            if report.empty:
                if rng.random() < 0.2:
                    report.empty = False
                    changes.append(("appear", month))
                continue
            if rng.random() < 0.02:
                report.empty = True
                changes.append(("disappear", month))
            elif rng.random() < 0.12:
                changes.append(("restate", month))
            elif rng.random() < 0.04:
                report.compression = "gzip" if report.compression == "zip" else "zip"
                changes.append(("compression", month))
            elif rng.random() < 0.06:
                report.rows = rng.randint(*(SMALL_ROWS if report.rows > SMALL_ROWS[1] else LARGE_ROWS))
                changes.append(("size", month))
        return tuple(changes)

    def _appstore(self, rng: random.Random) -> tuple[tuple[str, str, int, dict[str, Any]], ...]:
        """Up to three Appstore faults, each for one, two or six requests."""
        faults = []
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            endpoint = rng.choices(("token", "report", "download"), (0.2, 0.4, 0.4))[0]
            fault = rng.choice(APPSTORE_FAULTS[endpoint])
            options: dict[str, Any] = {}
            if fault in ("429", "503"):
                options["retry_after"] = rng.choice((1, None))
            elif fault == "delay":
                options["seconds"] = round(rng.uniform(0.2, 1.0), 2)
            faults.append((endpoint, fault, rng.choices((1, 2, 6), (0.7, 0.2, 0.1))[0], options))
        return tuple(faults)

    def _focus(self, rng: random.Random, changes: tuple[tuple[str, Month], ...], after_kill: bool) -> tuple[str, ...]:
        """Calls to fault because this run is likely to make them: partition repair, recovery after a kill."""
        focus: list[str] = []
        if any(kind in ("unregister", "relocate") for kind, _ in changes) and rng.random() < 0.5:
            focus.append(rng.choice(PARTITION_CALLS))
        if after_kill and rng.random() < 0.6:
            focus += rng.sample(RECOVERY_CALLS, 2)
        return tuple(focus)

    def _aws(self, rng: random.Random, focus: tuple[str, ...] = ()) -> AwsPlan:
        """A background fault rate, up to two targeted faults (and one on each `focus` call), sometimes one failing on every call."""

        def kind() -> str:
            return rng.choices(AWS_KINDS, (0.3, 0.2, 0.25, 0.25))[0]

        rate = rng.choices((0.0, 0.02, 0.05, 0.12), (0.3, 0.3, 0.25, 0.15))[0]
        targeted = tuple((rng.choice(OPERATIONS), rng.randint(1, 3), kind()) for _ in range(rng.choice((0, 1, 1, 2))))
        targeted += tuple((operation, 1, kind()) for operation in focus)
        persistent = (rng.choice((*OPERATIONS, "s3.uploads")), rng.choice(("500", "reset", "unacked"))) if rng.random() < 0.08 else None
        if rng.random() < 0.3:  # one of the transaction's writes committed but unacknowledged
            targeted += ((rng.choice(UNACKED_TARGETS), rng.randint(1, 3), "unacked"),)
        return AwsPlan(rate, targeted, persistent, rng.choice(("", "/raw/")))
