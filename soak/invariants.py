"""The soak's invariants, checked after every run against the archive read straight from moto and the served truth.

Readings of the issue's wording (the strict ones that a correct archiver can still meet):
- A "month" is any report type's period (soak.layout.Slot): a month, or a year for earnings_yearly.
- "Open" months: after a killed run, the months with a pending marker; after a run that ends,
  the months with a pending marker that the run reported `failed` or `archived` with an error.
  An open month is a month transaction that could not finish; it is exempt from 2, 3 (counts)
  and 6 until a run finishes it. Every other month meets them after every run that ends.
- 1 holds after every run, killed or not: a raw object's bytes are a version served for its
  month, under that version's served name, and its `sha256` metadata is the SHA-256 of its bytes.
- 2: `source-sha256` of the curated object == `sha256` of the raw object == SHA-256 of its bytes.
- 3: one raw and one curated object per month that has either (checked after kills too, for
  months that are not open); no stray keys; a curated object's bytes are whole gzip and match
  its `sha256` metadata.
- 4: exempts a month that had a pending marker before the run (recovering a killed run's
  transaction is allowed to change it; 1-3 still apply). A failed month that was archived before
  the run may have its missing or moved partition put back at its own location: every run
  registers the partitions of the pairs committed earlier before any month's attempt, so a
  failing download does not keep committed data out of Athena (6 requires it).
- 5: a failed month, or an `archived` month with an error (post-commit steps left undone),
  means the run raises, emits RunFailed and no RunSucceeded; a run that raises for any reason
  emits RunFailed and no RunSucceeded; a run that returns emits RunSucceeded and no RunFailed.
- 6: after a run that ends, reached its months (returned, or reported a month other than by
  settling a pending transaction, which every run does before the secret and the token can stop
  it, while it repairs partitions only after them) and saw no Glue fault;
  and after a run that returned with no error in any result, whatever faults it met (retries
  absorbed them, or the run hid a failure: either way the partitions must be right).
- 7: the first run after a kill that ends without any fault leaves no pending marker and no
  failed month (with 2, 3 and 6 holding for every month, as no month is open).
- A run that returns `busy` (another held the archive lease) did nothing: 5 asks RunBusy, no
  RunFailed and no result; it is exempt from 6 and 7 (a later run settles and repairs), and after
  it (both runs busy, with an overlap) every month with a pending marker is open: it settled
  nothing, so a killed run's transaction stays open until a run takes over the killed run's lease.
- Two overlapping runs are checked once both ended, on the archive then: 1-3 and 6-7 as one
  run (open months of either; the faults injected count for both), 5 for each, and 4 for a month
  one run failed that the other did not report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archiver.storage.settle import SETTLING
from infra.local.emulator.served import Served
from soak.layout import Slot
from soak.observe import Archive, made_from


@dataclass(frozen=True)
class Violation:
    """One broken invariant, with its evidence."""

    invariant: int
    month: str | None  # the slot: "2026-11" (sales), "earnings 2026-09", "earnings_yearly 2026"
    evidence: str


@dataclass
class Outcome:
    """What one run did, as the parent saw it."""

    killed: bool = False
    returned: bool = False
    error: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # the per-month log records
    metrics: dict[str, float] = field(default_factory=dict)
    glue_faults: int = 0
    faults: int = 0  # every fault injected into this run (AWS and Appstore)
    settled: list[str] = field(default_factory=list)  # how each pending transaction was settled (rolled back, forward, refetch)
    status: str | None = None  # the return value's status, if it has one ("busy": the archive lease was held)

    def busy(self) -> bool:
        """Returned busy: another run held the archive lease, so this one did nothing."""
        return self.returned and self.status == "busy"

    def reached_months(self) -> bool:
        """Got past the token: raised for its months' results, or reported one other than a pending transaction's."""
        own = any(not str(r.get("error") or "").startswith(SETTLING) for r in self.results)
        return own or (self.error or "").startswith("RunFailedError:")  # raised only once the months are done

    def months_with(self, *statuses: str, with_error: bool = False) -> set[Slot]:
        """Slots reported with one of these statuses (and an error, if asked)."""
        return {
            Slot(str(r.get("report", "sales")), str(r["month"]))
            for r in self.results
            if r["status"] in statuses and (r.get("error") or not with_error)
        }

    def spotless(self) -> bool:
        """Returned, and no result carries an error: any fault it met was absorbed by retries."""
        return self.returned and not self.busy() and self.error is None and not any(r.get("error") for r in self.results)

    def problems(self) -> set[Slot]:
        """Months reported failed, or archived with an error."""
        return self.months_with("failed") | self.months_with("archived", with_error=True)


def open_months(after: Archive, outcome: Outcome) -> set[Slot]:
    """Months whose transaction could not finish (see the module docstring)."""
    pending = after.markers("pending")
    return pending if outcome.killed else pending & outcome.problems()


def open_after(after: Archive, runs: list[Outcome]) -> set[Slot]:
    """The open months after these runs (one, or two overlapping): each run's, or, when every run ended busy, every month
    with a pending marker. A busy run wrote nothing and settled nothing: a killed run's transaction stays open until a
    run takes over the killed run's lease. Its current objects are as the run before left them, checked then."""
    if all(run.busy() for run in runs):
        return after.markers("pending")
    return set().union(*(open_months(after, run) for run in runs))


def check_raw(after: Archive, served: dict[Slot, list[Served]]) -> list[Violation]:
    """Invariant 1."""
    found = []
    for month in sorted(after.slots()):
        versions = served.get(month, [])
        for raw in after.raw(month):
            name = raw.key.rpartition("/")[2]
            if raw.metadata.get("sha256") != raw.sha256:
                found.append(Violation(1, str(month), f"{raw.key}: metadata sha256 {raw.metadata.get('sha256')} != bytes {raw.sha256}"))
            matching = [v for v in versions if v.sha256 == raw.sha256]
            if not matching:
                found.append(Violation(1, str(month), f"{raw.key}: bytes {raw.sha256[:12]} are no version served ({len(versions)} served)"))
            elif all(v.name != name for v in matching):
                found.append(Violation(1, str(month), f"{raw.key}: served as {matching[0].name}, stored as {name}"))
    return found


def check_layout(after: Archive, exempt: set[Slot]) -> list[Violation]:
    """Invariant 3."""
    found = [Violation(3, None, f"stray key {key}") for key in after.stray()]
    for key in (k for k in sorted(after.objects) if after.layout.history.fullmatch(k)):  # a history copy is never half made
        copy = after.objects[key]
        if not copy.whole or copy.metadata.get("sha256") != copy.sha256:
            found.append(Violation(3, None, f"{key}: partial history copy or metadata sha256 != bytes (whole={copy.whole})"))
    for month in sorted(after.slots()):
        raws, curated = after.raw(month), after.curated(month)
        if curated is not None and (not curated.whole or curated.metadata.get("sha256") != curated.sha256):
            found.append(Violation(3, str(month), f"{curated.key}: partial or metadata sha256 != bytes (whole={curated.whole})"))
        if month in exempt:
            continue
        if len(raws) != 1:
            found.append(Violation(3, str(month), f"{len(raws)} raw objects: {[r.key.rpartition('/')[2] for r in raws]}"))
        if curated is None:
            found.append(Violation(3, str(month), "no curated object"))
    return found


def check_pairs(after: Archive, exempt: set[Slot]) -> list[Violation]:
    """Invariant 2."""
    found = []
    for month in sorted(after.slots() - exempt):
        raws, curated = after.raw(month), after.curated(month)
        if len(raws) != 1 or curated is None:
            continue  # reported under 3
        (raw,) = raws
        source = curated.metadata.get("source-sha256")
        if source is None:  # say whether it is made from the raw object by its content, so the evidence tells the two apart
            by_content = {True: "it is", False: "it is NOT", None: "it cannot be (the raw object cannot be curated)"}[
                made_from(raw, curated, month.report)
            ]
            found.append(Violation(2, str(month), f"curated object has no source-sha256; by content {by_content} made from the raw object"))
        elif not (source == raw.metadata.get("sha256") == raw.sha256):
            name = raw.key.rpartition("/")[2]
            found.append(Violation(2, str(month), f"curated source-sha256 {source[:12]} vs raw {raw.sha256[:12]} ({name})"))
    return found


def check_run(
    before: Archive, after: Archive, outcome: Outcome, served: dict[Slot, list[Served]], after_kill: bool, other: Outcome | None = None
) -> list[Violation]:
    """Every invariant that applies to this run, or to two overlapping runs once both ended (7 only when `after_kill`
    and no fault was injected). With an overlap, 4 holds for a month failed in one run the other did not report;
    faults, Glue faults included, count for both (the proxy cannot tell the two processes' calls apart)."""
    runs = [outcome] if other is None else [outcome, other]
    exempt = open_after(after, runs)
    found = check_raw(after, served) + check_layout(after, exempt)
    if any(run.killed for run in runs):
        return found
    found += check_pairs(after, exempt)
    pending_before = before.markers("pending")
    for run in runs:
        others = {Slot(str(r.get("report", "sales")), str(r["month"])) for o in runs if o is not run for r in o.results}
        for month in sorted(run.months_with("failed") - pending_before - others):
            (raw, curated, partition), now = before.state(month), after.state(month)
            repaired = curated is not None and now[2] == after.layout.location(month)  # a committed pair's partition put back
            if (raw, curated) != now[:2] or (partition != now[2] and not repaired):
                found.append(Violation(4, str(month), f"failed, but changed: {before.state(month)} -> {now}"))
        found += check_metrics(run)
    working = [run for run in runs if not run.busy()]  # a busy run did nothing: it neither repairs nor settles
    if working and all((run.glue_faults == 0 and (run.returned or run.reached_months())) or run.spotless() for run in working):
        for month in sorted(after.slots() - exempt):
            if after.partitions.get(month) != after.layout.location(month):
                found.append(Violation(6, str(month), f"partition {after.partitions.get(month)!r} after a run without Glue failures"))
    if after_kill and working and outcome.faults == 0:
        if after.markers("pending"):
            found.append(Violation(7, None, f"pending markers left by a fault-free run: {sorted(map(str, after.markers('pending')))}"))
        for month in sorted(set().union(*(run.months_with("failed") for run in working))):
            found.append(Violation(7, str(month), "failed in the fault-free run after a kill"))
    return found


def check_metrics(outcome: Outcome) -> list[Violation]:
    """Invariant 5."""
    succeeded, failed = outcome.metrics.get("RunSucceeded", 0), outcome.metrics.get("RunFailed", 0)
    evidence = f"returned={outcome.returned} RunSucceeded={succeeded:g} RunFailed={failed:g} error={(outcome.error or '')[:160]!r}"
    if outcome.busy():  # not a failure: RunBusy, no RunFailed, no month result
        if outcome.metrics.get("RunBusy", 0) < 1 or failed or outcome.results:
            return [Violation(5, None, f"the run returned busy with RunBusy={outcome.metrics.get('RunBusy', 0):g}: {evidence}")]
        return []
    problems = outcome.problems()
    if problems and outcome.returned:
        return [Violation(5, None, f"months {sorted(map(str, problems))} failed or incomplete, but the run returned: {evidence}")]
    if not outcome.returned and (failed < 1 or succeeded):
        return [Violation(5, None, f"the run raised: {evidence}")]
    if outcome.returned and (succeeded != 1 or failed):
        return [Violation(5, None, f"the run returned: {evidence}")]
    return []


def check_final(after: Archive, outcome: Outcome, served: dict[Slot, list[Served]], has_report: dict[Slot, bool]) -> list[Violation]:
    """Invariant 8: the final clean run archived the latest served content of every month with a report, nothing without one."""
    found = [] if outcome.returned else [Violation(8, None, f"the final clean run raised: {outcome.error}")]
    for kind in ("pending", "deferred"):
        found += [Violation(8, str(m), f"{kind} marker after the final clean run") for m in sorted(after.markers(kind))]
    for month, exists in sorted(has_report.items()):
        versions, raws, curated = served.get(month, []), after.raw(month), after.curated(month)
        if exists:
            latest = max(versions, key=lambda v: v.at) if versions else None
            if latest is None or [r.sha256 for r in raws] != [latest.sha256]:
                found.append(
                    Violation(8, str(month), f"raw {[r.sha256[:12] for r in raws]} != latest served {latest and latest.sha256[:12]}")
                )
            elif curated is None or curated.metadata.get("source-sha256") != latest.sha256:
                found.append(Violation(8, str(month), "the curated object is not made from the latest served report"))
            elif after.partitions.get(month) != after.layout.location(month):
                found.append(Violation(8, str(month), f"partition {after.partitions.get(month)!r}"))
        elif not versions and (raws or curated or month in after.partitions):
            found.append(Violation(8, str(month), "objects or a partition for a month that never had a report"))
    return found
