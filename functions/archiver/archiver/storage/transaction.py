"""One month as a transaction: intent, curated upload, raw upload (the commit point), rollback or roll-forward."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archiver.core.periods import Period
from archiver.storage.converge import Marker, converge, superseded_raw
from archiver.storage.objects import TXN, abort_uploads, clear_intent, put_file, refused, remove_versions
from archiver.storage.remake import recurate
from archiver.storage.store import ArchiveStore, Stored

Register = Callable[[Period], object]
Superseded = dict[Period, list[Marker]]  # a period's unfinished transactions, which its next transaction supersedes


class Unfinished(RuntimeError):
    """A transaction past its commit point whose later steps failed; a new transaction on the month supersedes its marker."""

    def __init__(self, message: str, markers: list[Marker]) -> None:
        super().__init__(message)
        self.markers = markers  # its own marker and those it superseded, for the next transaction's intent


class Unconverged(RuntimeError):
    """A rollback is done and its markers cleared, but the pair could not be re-made from the raw object: fetch the month again."""


class RollbackFailed(RuntimeError):
    """A failed month could not be rolled back; its pending marker stays, so the next run rolls it back."""


@dataclass(frozen=True)
class MonthWrite:
    """The two objects a month transaction writes, from local files."""

    month: Period
    raw_key: str
    raw_path: Path
    raw_type: str
    raw_sha256: str
    curated_key: str
    curated_path: Path
    curated_metadata: dict[str, str]  # prepare.curated_metadata: sha256, columns, rows, source-sha256, guesses


def commit(
    store: ArchiveStore, write: MonthWrite, previous: str | None, register: Register, markers: Iterable[str], supersedes: list[Marker]
) -> list[str]:
    """Write the month; before the raw upload commits, any failure restores it exactly; after, the errors of the rest.

    `supersedes` names committed transactions of the month left unfinished: their markers stay until ours has committed.
    """
    month, txn = write.month, uuid.uuid4().hex
    intent = {
        "month": str(month),
        "txn": txn,
        "raw_key": write.raw_key,
        "curated_key": write.curated_key,
        "previous_curated_version": previous,
        "started": datetime.now(UTC).isoformat(),
        "supersedes": supersedes,
    }
    marker = store.put_intent(month, intent)
    try:
        put_file(store, write.curated_key, write.curated_path, {**write.curated_metadata, TXN: txn}, "application/gzip")
        put_file(store, write.raw_key, write.raw_path, {"sha256": write.raw_sha256, TXN: txn}, write.raw_type)  # the commit point
    except Exception as exc:
        try:
            remove_versions(store, write.curated_key, txn, previous)
        except Exception as undo:
            detail = f"{type(exc).__name__}: {exc}; the rollback failed ({type(undo).__name__}: {undo}); the next run retries it"
            raise RollbackFailed(detail) from exc
        if refused(exc):  # else an upload may still land (a timeout, a 5xx): the marker stays and the next run settles it
            with contextlib.suppress(Exception):  # a marker left behind is rolled back (a no-op) by the next run
                clear_intent(store, month, txn, marker)
        raise
    return finish(store, month, write.raw_key, register, markers, [*supersedes, {"txn": txn, "version": marker}])


def finish(store: ArchiveStore, month: Period, raw_key: str, register: Register, markers: Iterable[str], mine: list[Marker]) -> list[str]:
    """After the commit point: old raw files, partition, markers; each failure is returned, the pending markers kept.

    `mine` lists the superseded markers, then the transaction's own, which is cleared last, so a kill never uncovers an older one.
    """
    steps: list[tuple[str, Callable[[], object]]] = [
        ("the previous raw file could not be removed", lambda: store.remove_other_raw(month, raw_key)),
        ("partition could not be registered", lambda: register(month)),
    ]
    steps += [(f"the {status} marker could not be cleared", functools.partial(store.clear_marker, month, status)) for status in markers]
    errors: list[str] = []
    for what, step in steps:
        try:
            step()
        except Exception as exc:
            errors.append(f"{what}: {type(exc).__name__}: {exc}")
    if not errors:  # otherwise the next run finds the marker and finishes the month
        try:
            for old in mine:
                clear_intent(store, month, str(old["txn"]), old["version"])
        except Exception as exc:
            errors.append(f"the pending marker could not be cleared: {type(exc).__name__}: {exc}")
    return errors


def recover(store: ArchiveStore, month: Period, register: Register, markers: Iterable[str], max_bytes: int | None = None) -> str:
    """Settle a transaction a killed or failed run left: roll forward past the commit point, else roll back.

    Every path ends with the pair made from the month's raw object, whatever the lifecycle expired while the marker
    waited: the marker's own record names what to settle, never an older marker version (noncurrent, so expirable).
    """
    found = store.read_intent(month)
    if found is None:
        return "none"
    intent, marker = found
    txn, raw_key, curated_key = str(intent.get("txn", "")), str(intent.get("raw_key", "")), str(intent.get("curated_key", ""))
    older: list[Marker] = list(intent.get("supersedes") or [])
    mine = [*older, {"txn": txn, "version": marker}]
    raw = store.current(raw_key) if raw_key else None
    if txn and raw is not None and raw.metadata.get(TXN) == txn:
        return roll_forward(store, month, raw, curated_key, register, markers, mine, max_bytes)
    if txn and curated_key:
        previous = intent.get("previous_curated_version")
        remove_versions(store, curated_key, txn, previous if isinstance(previous, str) else None)
    abort_uploads(store, store.raw_prefix(month))
    abort_uploads(store, store.curated_prefix(month))
    committed = superseded_raw(store, month, older)
    if committed is not None:  # the unfinished transaction this one superseded is current again: finish it too
        return f"rolled back, then {roll_forward(store, month, committed, store.curated_key(month), register, markers, mine, max_bytes)}"
    try:
        converged = converge(store, month, max_bytes)  # the previous curated version may have expired meanwhile
    except Exception as exc:  # the raw bytes do not match their SHA-256, or no longer curate: only Amazon can mend the pair
        failure: Exception | None = exc
    else:
        failure = None
    for old in mine:  # none of them is current: ours is cleared last, so a kill never uncovers an older one
        clear_intent(store, month, str(old["txn"]), old["version"])
    if failure is not None:  # the rollback itself is complete: a marker kept would only keep the month from being fetched
        raise Unconverged(f"rolled back, but not re-curated from the raw object: {type(failure).__name__}: {failure}") from failure
    return "rolled back, re-curated from the raw object" if converged else "rolled back"


def roll_forward(
    store: ArchiveStore,
    month: Period,
    raw: Stored,
    curated_key: str,
    register: Register,
    markers: Iterable[str],
    mine: list[Marker],
    max_bytes: int | None,
) -> str:
    """Finish the committed transaction that wrote `raw` (re-curating from it if its curated object is gone); Unfinished on errors."""
    txn, outcome = raw.metadata[TXN], "rolled forward"
    try:
        curated = store.current(curated_key)
        if curated is None or curated.metadata.get(TXN) != txn:  # the raw upload landed after its run rolled curated back
            recurate(store, raw, curated_key, txn, max_bytes)
            outcome = "rolled forward, re-curated from the raw object"
        errors = finish(store, month, raw.key, register, markers, mine)
    except Exception as exc:
        errors = [f"{type(exc).__name__}: {exc}"]
    if errors:
        raise Unfinished("; ".join(errors), mine)
    return outcome
