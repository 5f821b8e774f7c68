"""Re-curate a committed period from its archived raw object, with no request to Amazon (roll-forward, and a repair event)."""

from __future__ import annotations

import functools
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.core.hashing import HashingWriter
from archiver.core.periods import Period
from archiver.core.results import MonthResult
from archiver.storage.objects import TXN, put_file
from archiver.storage.prepare import curate_file, curated_metadata
from archiver.storage.store import ArchiveStore, Stored

if TYPE_CHECKING:  # the converter is imported when a month is curated (prepare.curate_file)
    from archiver.formats.sales_csv import Curated


class RawMismatch(RuntimeError):
    """The raw object's bytes are not the ones its sha256 metadata names: it is not re-curated."""


def fetch_raw(store: ArchiveStore, key: str, version: str | None, target: Path, named: str | None = None) -> str:
    """Copy one raw object version to `target`, returning its SHA-256; RawMismatch unless the bytes are the ones named.

    `named` is the SHA-256 the caller read with the version's metadata; None: the one its GET answers with.
    """
    response = store.s3.get_object(**store.args(Key=key, **({"VersionId": version} if version else {})))
    body, named = response["Body"], named or response.get("Metadata", {}).get("sha256")
    try:
        with open(target, "wb") as out:
            hashed = HashingWriter(out)
            shutil.copyfileobj(body, hashed, 1024 * 1024)
    finally:
        body.close()
    sha256 = hashed.digest.hexdigest()
    if sha256 != named:
        raise RawMismatch(f"{key} version {version} holds bytes with SHA-256 {sha256}, its metadata names {named}")
    return sha256


def recurate(store: ArchiveStore, raw: Stored, curated_key: str, txn: str, max_bytes: int | None) -> Curated:
    """Write the curated object made from this raw object version (the bytes Amazon served), tagged with transaction `txn`."""
    with tempfile.TemporaryDirectory(prefix="appstore-repair-") as scratch:
        source, target = Path(scratch) / "raw", Path(scratch) / "curated.csv.gz"
        sha256 = fetch_raw(store, raw.key, raw.version, source, raw.metadata.get("sha256"))
        curated = curate_file(store.report, source, target, max_bytes)
        metadata = curated_metadata(store.report, curated, sha256)
        put_file(store, curated_key, target, {**metadata, TXN: txn}, "application/gzip")
        return curated


def from_raw(
    store: ArchiveStore, period: Period, register: Callable[[Period], object], markers: Iterable[str], max_bytes: int | None
) -> MonthResult | None:
    """Put a period right from its one raw object: re-curate, register the partition, clear its markers; `archived`.

    None when there is no raw object to trust (none, several, no sha256, or bytes its sha256 does not name): only
    Amazon's bytes can repair the period then.
    """
    view = store.month(period)
    if len(view.raw) != 1 or not view.raw[0].metadata.get("sha256"):
        return None
    raw, curated_key = view.raw[0], store.curated_key(period)
    try:
        curated = recurate(store, raw, curated_key, uuid.uuid4().hex, max_bytes)
    except RawMismatch:
        return None
    errors: list[str] = []
    steps: list[tuple[str, Callable[[], object]]] = [("partition could not be registered", functools.partial(register, period))]
    steps += [(f"the {status} marker could not be cleared", functools.partial(store.clear_marker, period, status)) for status in markers]
    for what, step in steps:
        try:
            step()
        except Exception as exc:  # the period's pair agrees: `archived`, incomplete, as a run's later step failing
            errors.append(f"{what}: {type(exc).__name__}: {exc}")
    name, sha256 = store.report.name, raw.metadata["sha256"]
    return MonthResult(name, str(period), "archived", raw.key, curated_key, None, curated.rows, sha256, "; ".join(errors) or None)
