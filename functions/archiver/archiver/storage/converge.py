"""After a rollback: the raw object the month's pair must be made from, and its curated object re-made from it if need be."""

from __future__ import annotations

import uuid

from archiver.core.periods import Period
from archiver.storage.objects import TXN
from archiver.storage.remake import recurate
from archiver.storage.store import ArchiveStore, Stored

Marker = dict[str, str | None]  # a pending marker another transaction supersedes: its "txn" and "version"


def converge(store: ArchiveStore, month: Period, max_bytes: int | None) -> bool:
    """Re-curate the month from its raw object unless the current curated object was made from it; True if it did.

    A rollback makes the previous curated version current again, but that version became noncurrent when the rolled
    back transaction uploaded, so the lifecycle (NoncurrentVersionRetentionDays) may have expired it meanwhile.
    """
    view = store.month(month)
    if len(view.raw) != 1 or not view.raw[0].metadata.get("sha256"):  # nothing archived, or no one raw object to compare with
        return False
    made_from = view.curated.metadata.get("source-sha256") if view.curated else None
    if made_from == view.raw[0].metadata["sha256"]:
        return False
    recurate(store, view.raw[0], store.curated_key(month), uuid.uuid4().hex, max_bytes)
    return True


def superseded_raw(store: ArchiveStore, month: Period, older: list[Marker]) -> Stored | None:
    """The month's raw object the latest of the superseded (committed) transactions wrote, if one is still current."""
    if not older:
        return None
    by_txn = {stored.metadata.get(TXN): stored for stored in store.month(month).raw}
    return next((by_txn[str(old["txn"])] for old in reversed(older) if str(old["txn"]) in by_txn), None)
