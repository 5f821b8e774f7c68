"""Write the curated canonical gzip CSV of a report (its decoding lives in archiver.formats.decode)."""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import IO, BinaryIO

from archiver.core.errors import ReportFormatError as ReportFormatError
from archiver.core.errors import ReportTooLarge as ReportTooLarge
from archiver.core.errors import SchemaError as SchemaError
from archiver.core.hashing import HashingWriter
from archiver.formats.decode import GZIP_MAGIC as GZIP_MAGIC
from archiver.formats.decode import ZIP_MAGIC as ZIP_MAGIC
from archiver.formats.decode import open_csv as open_csv
from archiver.formats.decode import open_text
from archiver.formats.decode import sniff as sniff
from archiver.formats.schema import CANONICAL_COLUMNS, map_header
from archiver.formats.schema import COLUMNS_FINGERPRINT as COLUMNS_FINGERPRINT

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


@dataclass(frozen=True)
class Curated:
    """Facts about a curated file that was written."""

    rows: int
    size: int
    sha256: str
    unknown_columns: tuple[str, ...]
    guesses: int = 0  # doubtful decisions of the schema-free splitter (archiver/formats/sections.py)
    guess_notes: tuple[str, ...] = ()  # the first few of them, described


def curate(source: Path, target: BinaryIO, max_bytes: int | None = None, extra: tuple[tuple[str, str], ...] = ()) -> Curated:
    """Write the curated CSV (gzip, UTF-8, no BOM) of `source` to `target`; ReportFormatError if it cannot be.

    `extra` (column, value) pairs are appended to the header and to every row (the history copy's fetched_at, source_sha256).
    """
    # ReportFormatError covers SchemaError, and ReportTooLarge: raised once over `max_bytes` decompressed bytes.
    try:
        with open_text(source, max_bytes) as text:
            return _rewrite(text, target, extra)
    except csv.Error as exc:
        raise ReportFormatError(f"report is not valid CSV: {exc}") from None


def _rewrite(text: IO[str], target: BinaryIO, extra: tuple[tuple[str, str], ...] = ()) -> Curated:
    """Map each row to the canonical columns; fold newlines inside values to one space."""
    reader = csv.reader(text, strict=True)
    header = next(reader, None)
    if header is None:
        raise ReportFormatError("report is empty: no header row")
    mapping = map_header(header)
    width = len(header)
    # Index `width` is an empty value appended to every row, for columns the source lacks.
    pick = itemgetter(*(width if i is None else i for i in mapping.source_index))
    sink = HashingWriter(target)
    rows, last_line = 0, reader.line_num
    with gzip.GzipFile(filename="", fileobj=sink, mode="wb", compresslevel=6, mtime=0) as packed:
        out = io.TextIOWrapper(packed, encoding="utf-8", newline="")
        writer = csv.writer(out, dialect=CuratedDialect)
        writer.writerow((*CANONICAL_COLUMNS, *(name for name, _ in extra)))
        appended = tuple(value for _, value in extra)
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
            writer.writerow((*values, *appended))
            rows += 1
        out.flush()
        out.detach()
    return Curated(rows, sink.size, sink.digest.hexdigest(), mapping.unknown)
