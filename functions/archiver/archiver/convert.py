"""Sniff gzip or ZIP, decompress in a stream, and write the curated canonical gzip CSV."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import IO, BinaryIO, cast

from archiver.schema import CANONICAL_COLUMNS, map_header

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_NEWLINES = re.compile(r"\r\n|\r|\n")


class CuratedDialect(csv.Dialect):
    """The curated CSV as Athena's OpenCSVSerDe parses it: every field quoted, `\\` escapes `"` and `\\`."""

    delimiter = ","
    quotechar = '"'
    escapechar = "\\"
    doublequote = False
    quoting = csv.QUOTE_ALL
    lineterminator = "\n"
    skipinitialspace = False
    strict = True


# Changes whenever the canonical columns or the curated format change, so older curated files get rewritten.
COLUMNS_FINGERPRINT = hashlib.sha256(f"{','.join(CANONICAL_COLUMNS)};quote-all;backslash-escape".encode()).hexdigest()[:16]


class ReportFormatError(ValueError):
    """The report file is corrupt, truncated, or not the expected compressed CSV."""


class ReportTooLarge(ReportFormatError):
    """The report decompresses to more bytes than allowed."""


class _Capped(io.RawIOBase):
    """A read-only stream that raises ReportTooLarge once more than `limit` bytes were read."""

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self._source, self._limit, self.size = source, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        self.size += len(data)
        if self.size > self._limit:
            raise ReportTooLarge(f"report decompresses to more than {self._limit} bytes (MAX_DECOMPRESSED_BYTES)")
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class Curated:
    """Facts about a curated file that was written."""

    rows: int
    size: int
    sha256: str
    unknown_columns: tuple[str, ...]


def sniff(path: Path) -> str:
    """'gzip' or 'zip' by the file's magic bytes; never by its name or Content-Type."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == ZIP_MAGIC:
        return "zip"
    raise ReportFormatError(f"report is neither gzip nor ZIP (starts with {head.hex() or 'nothing'})")


@contextmanager
def open_csv(path: Path) -> Iterator[IO[bytes]]:
    """Open the decompressed CSV bytes of a gzip (all members) or single-CSV ZIP file."""
    if sniff(path) == "gzip":
        with gzip.GzipFile(path, "rb") as packed:
            yield cast(IO[bytes], packed)
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ReportFormatError(f"corrupt ZIP archive: {exc}") from None
    with archive:
        files = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        csvs = [i for i in files if i.filename.lower().endswith(".csv")]
        if len(csvs) != 1:
            names = [i.filename for i in files][:10]
            raise ReportFormatError(f"ZIP must hold exactly one CSV, found {len(csvs)} among {names}")
        with archive.open(csvs[0]) as member:
            yield member


class _HashingWriter(io.RawIOBase):
    """A write-only stream that hashes and counts what it passes on."""

    def __init__(self, target: BinaryIO) -> None:
        self._target, self.digest, self.size = target, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._target.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)


def curate(source: Path, target: BinaryIO, max_bytes: int | None = None) -> Curated:
    """Write the canonical curated CSV (gzip, UTF-8, no BOM) of `source` into `target`."""
    try:
        with open_csv(source) as raw:
            stream = raw if max_bytes is None else cast(IO[bytes], io.BufferedReader(_Capped(raw, max_bytes)))
            return _rewrite(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""), target)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ReportFormatError(f"report could not be decompressed completely: {type(exc).__name__}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"report is not valid UTF-8 (byte offset {exc.start})") from None
    except csv.Error as exc:
        raise ReportFormatError(f"report is not valid CSV: {exc}") from None


def _rewrite(text: IO[str], target: BinaryIO) -> Curated:
    """Map each row to the canonical columns; fold newlines inside values to one space."""
    reader = csv.reader(text, strict=True)
    header = next(reader, None)
    if header is None:
        raise ReportFormatError("report is empty: no header row")
    mapping = map_header(header)
    width = len(header)
    # Index `width` is an empty value appended to every row, for columns the source lacks.
    pick = itemgetter(*(width if i is None else i for i in mapping.source_index))
    sink = _HashingWriter(target)
    rows, last_line = 0, reader.line_num
    with gzip.GzipFile(filename="", fileobj=sink, mode="wb", compresslevel=6, mtime=0) as packed:
        out = io.TextIOWrapper(packed, encoding="utf-8", newline="")
        writer = csv.writer(out, dialect=CuratedDialect)
        writer.writerow(CANONICAL_COLUMNS)
        for row in reader:
            spanned = reader.line_num - last_line > 1  # a value holds a line break
            last_line = reader.line_num
            if not row:
                continue
            if len(row) != width:
                raise ReportFormatError(f"record ending on line {reader.line_num} has {len(row)} fields, header has {width}")
            row.append("")
            values = pick(row)
            if spanned:
                values = tuple(_NEWLINES.sub(" ", v) for v in values)
            writer.writerow(values)
            rows += 1
        out.flush()
        out.detach()
    return Curated(rows, sink.size, sink.digest.hexdigest(), mapping.unknown)
