"""One month as a transaction: intent, curated upload, raw upload (the commit point), rollback or roll-forward."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archiver.objects import TXN, UnknownOutcome, abort_uploads, put_file, remove_versions
from archiver.periods import Period
from archiver.recurate import made_from, recurate
from archiver.store import ArchiveStore

Register = Callable[[Period], object]


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
    curated_metadata: dict[str, str]  # sha256, columns, rows, source-sha256


def commit(
    store: ArchiveStore, write: MonthWrite, previous: str | None, register: Register, markers: Iterable[str], stale: str | None = None
) -> list[str]:
    """Write the month; before the raw upload commits, any failure restores it exactly; after, the errors of the rest."""
    month, txn = write.month, uuid.uuid4().hex
    if stale is not None:  # an older marker this run chose to redo: removed first, so ours never uncovers it
        store.clear_intent(month, stale)
    intent = {
        "month": str(month),
        "txn": txn,
        "raw_key": write.raw_key,
        "curated_key": write.curated_key,
        "previous_curated_version": previous,
        "started": datetime.now(UTC).isoformat(),
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
        if not isinstance(exc, UnknownOutcome):  # else the raw upload may have committed: the next run settles it
            with contextlib.suppress(Exception):  # a marker left behind is rolled back (a no-op) by the next run
                clear_intent(store, month, marker, txn)
        raise
    return finish(store, month, write.raw_key, register, markers, marker, txn)


def clear_intent(store: ArchiveStore, month: Period, marker: str | None, txn: str) -> None:
    """Remove the transaction's pending marker: the version read or written, and every other version of this `txn`.

    A retried PutObject of the marker may have written it twice; deleting one version would uncover the other.
    """
    store.clear_intent(month, marker)
    if txn:
        remove_versions(store, store.marker_key("pending", month), txn)


def finish(
    store: ArchiveStore, month: Period, raw_key: str, register: Register, markers: Iterable[str], marker: str | None, txn: str
) -> list[str]:
    """After the commit point: old raw files, partition, markers; each failure is returned, the pending marker kept."""
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
            clear_intent(store, month, marker, txn)
        except Exception as exc:
            errors.append(f"the pending marker could not be cleared: {type(exc).__name__}: {exc}")
    return errors


def recover(store: ArchiveStore, month: Period, register: Register, markers: Iterable[str]) -> tuple[str, str | None]:
    """Settle a transaction a killed or failed run left: roll forward past the commit point, else roll back."""
    found = store.read_intent(month)
    if found is None:
        return "none", None
    intent, marker = found
    txn, raw_key, curated_key = str(intent.get("txn", "")), str(intent.get("raw_key", "")), str(intent.get("curated_key", ""))
    raw = store.current(raw_key) if raw_key else None
    if txn and raw is not None and raw.metadata.get(TXN) == txn:
        if not made_from(store, store.current(curated_key), raw):  # its curated version was rolled back: made again from the raw object
            recurate(store, raw, curated_key, txn)
        errors = finish(store, month, raw_key, register, markers, marker, txn)
        if errors:
            raise RuntimeError("; ".join(errors))
        return "rolled forward", marker
    if txn and curated_key:
        previous = intent.get("previous_curated_version")
        remove_versions(store, curated_key, txn, previous if isinstance(previous, str) else None)
    abort_uploads(store, store.raw_prefix(month))
    abort_uploads(store, store.curated_prefix(month))
    clear_intent(store, month, marker, txn)
    return "rolled back", marker
