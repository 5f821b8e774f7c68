"""The local Athena stand-in's copy of a Glue table: its schema, registered partitions and their data files, kept in sync incrementally."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from infra.local.athena_source import duck_type

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any


class CatalogMissing(LookupError):
    """The Glue database or table does not exist."""


def split_s3(location: str) -> tuple[str, str]:
    """Bucket and key prefix (ending with '/') of an s3:// location."""
    parsed = urlparse(location)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise ValueError(f"not an S3 location: {location!r}")
    prefix = parsed.path.lstrip("/")
    return parsed.netloc, prefix if not prefix or prefix.endswith("/") else prefix + "/"


def glue_tables(glue: GlueClient, database: str) -> set[str]:
    """The names of the Glue database's tables, or CatalogMissing naming the databases there are."""
    try:
        return {t["Name"] for page in glue.get_paginator("get_tables").paginate(DatabaseName=database) for t in page["TableList"]}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
            raise
    databases = [d["Name"] for page in glue.get_paginator("get_databases").paginate() for d in page["DatabaseList"]]
    raise CatalogMissing(f"no Glue database {database!r}; the databases are {databases}")


@dataclass
class TableCopy:
    """A local directory mirroring the data files of a Glue table's registered partitions, laid out key=value/."""

    glue: GlueClient
    s3: S3Client
    database: str
    table: str
    data: Path
    columns: list[tuple[str, str]] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)
    partitions: list[list[str]] = field(default_factory=list)
    serde: dict[str, str] = field(default_factory=dict)  # the SerDe's parameters
    library: str = ""  # the SerDe's SerializationLibrary
    skip: int = 0
    synced: dict[Path, str] = field(default_factory=dict)  # local file → ETag of the object it copies

    @property
    def files(self) -> int:
        """How many data files the copy holds."""
        return len(self.synced)

    def sync(self) -> int:
        """Read the table and its partitions from Glue; download new or changed objects, drop removed ones; return downloads."""
        table = self._table()
        descriptor = table["StorageDescriptor"]
        self.columns = [(c["Name"], duck_type(c.get("Type", "string"))) for c in descriptor.get("Columns", [])]
        self.keys = [(k["Name"], duck_type(k.get("Type", "string"))) for k in table.get("PartitionKeys", [])]
        self.serde = dict(descriptor.get("SerdeInfo", {}).get("Parameters", {}))
        self.library = descriptor.get("SerdeInfo", {}).get("SerializationLibrary", "")
        self.skip = int(table.get("Parameters", {}).get("skip.header.line.count", "0"))
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=self.database, TableName=self.table)
        registered = sorted((p["Values"], p["StorageDescriptor"]["Location"]) for page in pages for p in page["Partitions"])
        if not self.keys:
            registered = [([], descriptor["Location"])]
        wanted = self._wanted(registered, descriptor.get("Location", ""))
        stale = {path: where for path, where in wanted.items() if self.synced.get(path) != where[2]}
        for path in set(self.synced) - set(wanted):
            path.unlink(missing_ok=True)
            del self.synced[path]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda item: self._download(*item), stale.items()))
        self.partitions = [values for values, _ in registered] if self.keys else []
        return len(stale)

    def _table(self) -> Any:
        """The Glue table definition, or CatalogMissing naming what is missing."""
        try:
            return self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                raise
        glue_tables(self.glue, self.database)  # CatalogMissing when the database is missing too
        raise CatalogMissing(f"no Glue table {self.database}.{self.table}")

    def _wanted(self, registered: list[tuple[list[str], str]], root: str) -> dict[Path, tuple[str, str, str]]:
        """Local path → (bucket, key, ETag) of every data file directly under a registered partition's location."""
        listings: dict[tuple[str, str], dict[str, str]] = {}
        root_bucket, root_prefix = split_s3(root) if root.startswith("s3") else ("", "\0")
        wanted: dict[Path, tuple[str, str, str]] = {}
        for values, location in registered:
            if any("/" in v or v in ("", ".", "..") for v in values):
                raise ValueError(f"unsupported partition values {values}")
            bucket, prefix = split_s3(location)
            # One recursive listing of the table's location serves every partition below it.
            scope = (bucket, root_prefix) if bucket == root_bucket and prefix.startswith(root_prefix) else (bucket, prefix)
            if scope not in listings:
                listings[scope] = self._list(*scope)
            folder = self.data.joinpath(*(f"{name}={value}" for (name, _), value in zip(self.keys, values, strict=True)))
            for key, etag in listings[scope].items():
                name = key[len(prefix) :] if key.startswith(prefix) else ""
                if name and "/" not in name and not name.startswith(("_", ".")):
                    wanted[folder / name] = (bucket, key, etag)
        return wanted

    def _list(self, bucket: str, prefix: str) -> dict[str, str]:
        """Key → ETag of every object under a prefix."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {item["Key"]: item.get("ETag", "") for page in pages for item in page.get("Contents", [])}

    def _download(self, path: Path, where: tuple[str, str, str]) -> None:
        """Copy one object to its local path and remember its ETag."""
        bucket, key, etag = where
        path.parent.mkdir(parents=True, exist_ok=True)
        self.s3.download_file(bucket, key, str(path))
        self.synced[path] = etag
