"""Read the archive as it is, straight from moto (never through the fault proxy): objects, metadata, partitions."""

from __future__ import annotations

import gzip
import hashlib
import io
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soak.layout import SUFFIX, Layout, Slot, slot

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any


@dataclass(frozen=True)
class Obj:
    """One current object: its version, the SHA-256 of its bytes, its metadata, and whether it reads back whole."""

    key: str
    version: str
    sha256: str
    metadata: dict[str, str]
    whole: bool  # curated and history copies: the gzip stream decompresses completely; other objects: True
    body: bytes = field(default=b"", repr=False, compare=False)  # raw and curated objects and state markers only


@dataclass(frozen=True)
class Archive:
    """The archive bucket's current objects and the tables' partitions at one moment."""

    layout: Layout
    objects: dict[str, Obj]
    partitions: dict[Slot, str]

    def raw(self, at: Slot) -> list[Obj]:
        """The slot's current raw objects."""
        return [o for k, o in sorted(self.objects.items()) if self.layout.slot_of(k) == ("raw", at)]

    def curated(self, at: Slot) -> Obj | None:
        """The slot's curated object."""
        return self.objects.get(self.layout.curated_key(at))

    def markers(self, kind: str) -> set[Slot]:
        """Slots with a state marker of this kind (not_found, deferred, pending)."""
        return {found[1] for k in self.objects if (found := self.layout.slot_of(k)) and found[0] == kind}

    def slots(self) -> set[Slot]:
        """Slots holding a raw or a curated object."""
        return {found[1] for k in self.objects if (found := self.layout.slot_of(k)) and found[0] in ("raw", "curated")}

    def stray(self) -> list[str]:
        """Keys outside the contract's layout."""
        lay = self.layout

        def allowed(key: str) -> bool:
            if m := lay.quarantine.fullmatch(key):
                return slot(m[1], m[2], m[3]) is not None
            return bool(lay.slot_of(key) or lay.other_state.fullmatch(key) or lay.history.fullmatch(key) or lay.periods.fullmatch(key))

        return sorted(k for k in self.objects if not allowed(k))

    def state(self, at: Slot) -> tuple[dict[str, str], str | None, str | None]:
        """What must not change for a failed slot: raw key -> version, curated version, partition location."""
        curated = self.curated(at)
        return {o.key: o.version for o in self.raw(at)}, curated.version if curated else None, self.partitions.get(at)


def _whole_gzip(body: bytes) -> bool:
    try:
        gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        return False
    return True


def observe(s3: S3Client, glue: GlueClient, layout: Layout, database: str, table: str) -> Archive:
    """Read every current object under the prefix (bytes hashed, metadata kept) and every partition."""
    objects: dict[str, Obj] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=layout.bucket, Prefix=layout.prefix):
        for item in page.get("Contents", []):
            got = s3.get_object(Bucket=layout.bucket, Key=item["Key"])
            body = got["Body"].read()
            kind = (layout.slot_of(item["Key"]) or ("", None))[0]
            history = layout.history.fullmatch(item["Key"])  # read back whole, like a curated copy
            sha, kept = hashlib.sha256(body).hexdigest(), body if kind else b""
            whole = (kind != "curated" and not history) or _whole_gzip(body)
            objects[item["Key"]] = Obj(item["Key"], str(got.get("VersionId")), sha, dict(got.get("Metadata", {})), whole, kept)
    return Archive(layout, objects, partitions(glue, database, table))


def partitions(glue: GlueClient, database: str, table: str) -> dict[Slot, str]:
    """Every partition of every type's table (GLUE_TABLE + the type's suffix): slot -> location."""
    found: dict[Slot, str] = {}
    for report, suffix in SUFFIX.items():
        for listing in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table + suffix):
            for partition in listing["Partitions"]:
                values = partition["Values"]
                found[Slot(report, "-".join(values))] = partition.get("StorageDescriptor", {}).get("Location", "")
    return found


def made_from(raw: Obj, curated: Obj, report: str) -> bool | None:
    """Whether curating the raw bytes again gives the curated bytes (None: the raw bytes cannot be curated)."""
    from archiver.formats.sales_csv import curate as curate_csv
    from archiver.formats.sections import curate_sections

    curate = curate_csv if report == "sales" else curate_sections

    with tempfile.TemporaryDirectory(prefix="soak-check-") as scratch:
        source = Path(scratch) / "raw"
        source.write_bytes(raw.body)
        target = io.BytesIO()
        try:
            curate(source, target)
        except Exception:
            return None
    return target.getvalue() == curated.body
