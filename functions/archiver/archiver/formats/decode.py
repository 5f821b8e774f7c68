"""Sniff gzip, ZIP or plain, stream the decompressed CSV under a size cap, and decode it by its byte-order mark."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import sys
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

from archiver.core.errors import ReportFormatError, ReportTooLarge

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
READ_SIZE = 64 * 1024  # decompressed bytes asked for at a time: the most a bomb gets past the cap
# Errors of a corrupt or truncated compressed stream (a local disk error is an OSError and is not one).
_CORRUPT = (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile)


# The csv module refuses fields over 131,072 characters by default. Its limit is process-global and
# read while parsing, so it is only ever raised (to the largest value), never set and restored around
# a read, which would race another thread's reader. Lifting it is safe: a field is never longer than
# the decompressed bytes, which open_text's `max_bytes` caps.
def lift_field_limit() -> None:
    """Let the csv module read fields of any length (its limit is process-global, so it is only ever raised)."""
    if csv.field_size_limit() < sys.maxsize:
        csv.field_size_limit(sys.maxsize)


def sniff(path: Path) -> str:
    """'gzip', 'zip' or 'plain' (anything else) by the file's magic bytes; never by its name or Content-Type."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    return "zip" if head == ZIP_MAGIC else "plain"


@contextmanager
def open_csv(path: Path, allow_plain: bool = False) -> Iterator[IO[bytes]]:
    """Open the decompressed CSV bytes of a gzip (all members) or single-CSV ZIP file, or a plain one if allowed."""
    kind = sniff(path)
    if kind == "gzip":
        with gzip.GzipFile(path, "rb") as packed:
            yield cast(IO[bytes], packed)
        return
    if kind == "plain" and allow_plain:
        with open(path, "rb") as plain:
            yield plain
        return
    if kind != "zip":  # a sales report is always compressed; anything else is an error page or a broken file
        with open(path, "rb") as handle:
            head = handle.read(4)
        raise ReportFormatError(f"report is neither gzip nor ZIP (starts with {head.hex() or 'nothing'})")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError) as exc:
        raise ReportFormatError(f"corrupt ZIP archive: {exc}") from None
    with archive:
        files = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        csvs = [i for i in files if i.filename.lower().endswith(".csv")]
        if len(csvs) != 1:
            names = [i.filename for i in files][:10]
            raise ReportFormatError(f"ZIP must hold exactly one CSV, found {len(csvs)} among {names}")
        try:
            member = archive.open(csvs[0])
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:  # bad header, method, encryption
            raise ReportFormatError(f"ZIP member {csvs[0].filename!r} cannot be read: {exc}") from None
        with member:
            yield member


class _Capped(io.RawIOBase):
    """The decompressed bytes, counted as they are read; past `limit` they raise ReportTooLarge."""

    def __init__(self, source: IO[bytes], limit: int | None) -> None:
        self._source, self._limit, self.count, self._pending = source, limit, 0, b""

    def readable(self) -> bool:
        return True

    def head(self, size: int) -> bytes:
        """The first `size` bytes (fewer if the stream is shorter), left to be read again."""
        while len(self._pending) < size and (chunk := self._take(size - len(self._pending))):
            self._pending += chunk
        return self._pending[:size]

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._pending[: len(view)] if self._pending else self._take(len(view))
        self._pending = self._pending[len(data) :]
        view[: len(data)] = data
        return len(data)

    def _take(self, size: int) -> bytes:
        try:
            data = self._source.read(size)
        except _CORRUPT as exc:
            raise ReportFormatError(f"report could not be decompressed completely: {type(exc).__name__}: {exc}") from None
        self.count += len(data)
        if self._limit is not None and self.count > self._limit:
            raise ReportTooLarge(self._limit)
        return data


def _encoding(head: bytes) -> str:
    """The text encoding the first decompressed bytes announce: UTF-16 with its BOM, else UTF-8 (BOM optional)."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ReportFormatError("report is UTF-32 text, which is not supported")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the codec reads the BOM and takes its byte order from it
    if b"\x00" in head:
        raise ReportFormatError("report starts with NUL bytes: UTF-16 without a byte-order mark, or not text")
    return "utf-8-sig"


@contextmanager
def open_text(path: Path, max_bytes: int | None = None, allow_plain: bool = False) -> Iterator[IO[str]]:
    """The report's CSV text (universal newlines left to the csv module), decompressed under `max_bytes`."""
    lift_field_limit()  # a csv reader of this text may meet a field of any length
    with open_csv(path, allow_plain) as raw:
        capped = _Capped(raw, max_bytes)
        encoding = _encoding(capped.head(4))
        try:
            yield io.TextIOWrapper(io.BufferedReader(capped, READ_SIZE), encoding=encoding, newline="")
        except UnicodeDecodeError as exc:
            label = "UTF-16" if encoding == "utf-16" else "UTF-8"
            raise ReportFormatError(f"report is not valid {label} ({exc.reason}, within the first {capped.count} bytes)") from None
