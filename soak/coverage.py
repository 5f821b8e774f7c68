"""What the soak exercised: the paths of the month transaction it reached, so a soak that misses one shows it."""

from __future__ import annotations

import json
from collections import Counter

from soak.invariants import Outcome
from soak.observe import Archive

# Calls whose lost answer (committed but unacknowledged) the month transaction must resolve.
UNACKED_CALLS = ("s3.PutObject", "s3.CompleteMultipartUpload", "s3.DeleteObjectVersion")


def killed_transactions(after: Archive) -> list[str]:
    """How far each month transaction left pending by a killed run got: which of its two uploads are in place."""
    found = []
    for month in sorted(after.markers("pending")):
        marker = after.objects.get(after.layout.marker_key(month, "pending"))
        try:
            txn = json.loads(marker.body).get("txn") if marker else None
        except ValueError:
            txn = None
        curated, kind = after.curated(month), "" if month.report == "sales" else " (schema-free type)"
        curated_ours = curated is not None and txn is not None and curated.metadata.get("txn") == txn
        raw_ours = any(txn is not None and raw.metadata.get("txn") == txn for raw in after.raw(month))
        if raw_ours:
            found.append(f"killed after the raw upload (committed){kind}")
        elif curated_ours:
            found.append(f"killed between the curated and the raw upload{kind}")
        else:
            found.append(f"killed before the curated upload was in place{kind}")
    return found


def note(exercised: Counter[str], outcome: Outcome, after: Archive, after_kill: bool) -> None:
    """Count the paths one run reached: kills by transaction stage, pending transactions settled, invariant 7 evaluated."""
    if outcome.killed:
        exercised.update(killed_transactions(after))
    exercised.update(f"pending transaction {how}" for how in outcome.settled)
    if after_kill and not outcome.killed and outcome.faults == 0:
        exercised["invariant 7 evaluated (fault-free run after a kill)"] += 1


def lines(exercised: Counter[str], operations: Counter[str], calls: Counter[str]) -> list[str]:
    """The summary's coverage lines: paths reached, multipart uploads, and AWS faults by operation."""
    out = [f"  {what}: {n}" for what, n in sorted(exercised.items())]
    out.append(f"  multipart uploads completed: {calls['s3.CompleteMultipartUpload']} (of {calls['s3.PutObject']} PutObject calls)")
    for call in UNACKED_CALLS:
        out.append(f"  committed but unacknowledged {call[3:]}: {operations[f'{call} unacked']}")
    faulted = {key.partition(" ")[0] for key, n in operations.items() if n > 0}
    never = sorted({op for op in calls if op.startswith(("s3.", "glue."))} - faulted)
    if never:
        out.append(f"  operations called but never faulted: {', '.join(never)}")
    out.append("  AWS faults by operation: " + ", ".join(f"{k} {n}" for k, n in sorted(operations.items()) if n > 0))
    return ["exercised:", *out]
