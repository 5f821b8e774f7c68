"""Schema-free curation: any CSV report, single table or titled blocks, as gzip JSON Lines of its rows.

Rules (docs/reference.md "Report types" repeats them for readers of the tables):
- The file is gzip, a ZIP holding one CSV, or plain text, decoded as archiver.formats.decode.open_text does:
  UTF-16 with its BOM, else UTF-8 with or without a BOM. There is no Latin-1 (or other) fallback:
  values are kept as served, and guessing a code page would silently rewrite them, so text that is
  not valid UTF-8/UTF-16 is a ReportFormatError (quarantined; the raw bytes stay there to re-read).
  Records are RFC 4180 CSV of any field length; a newline inside quotes stays in the value.
- A record with no non-empty field is blank; blank records separate blocks.
- At the start of a block, records with at most one non-empty field are title lines; the first
  record with two or more is the block's header, and every record after it is a data row. A block
  of title lines only (a preamble such as `Earnings Report` or a date range) yields no rows.
- Inside the rows, a record of exactly one field (no comma at all), when the header has two or
  more and the next record is non-blank, is a title that starts a new table (a `Detail` line with
  no blank line before it); followed by a blank record or the end, it is a (narrow) data row.
- A block whose first title is `Notes` holds notes: each record is a row of section `Notes` with
  its values under `Note`, `Note (2)`, ...
- Doubtful decisions are guesses, each counted and described (`Sectioned.guesses`): a blank record
  followed, with no title line, by a record as wide as the table before it holding a number, amount
  or date (the table goes on); a two-field first record followed by one of three or more non-empty
  fields (a preamble line such as `Report Period,2024-01`: a title line, not the header); a
  one-field record inside rows (a title, or a narrow data row when a record holding a number,
  amount or date or nothing follows); a notes block ended by a one-field title and a header of
  three or more names, or by such a header alone, with no blank line before; a row wider than its
  header. Whatever the keying, every data row also keeps its record's values in order (`cells`).
- Section: null when the file has one table; otherwise the table's last title line (null if none).
- Keys are the header names as served. An empty name becomes `(column N)` (N 1-based); a repeated
  name (compared case-insensitively) gets ` (2)`, ` (3)`, ... A row narrower than its header has
  the missing trailing values empty; a wider row keeps its extra values under `(column N)`.
- `line` is the 1-based line of the decompressed file on which the row's record starts.
- A file with no table (no header row anywhere) is a ReportFormatError, as is an undecodable one;
  one that decompresses past `max_bytes` raises ReportTooLarge (a ReportFormatError).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from archiver.core.errors import ReportFormatError
from archiver.core.hashing import HashingWriter
from archiver.core.report_types import JSON_COLUMNS
from archiver.formats.decode import open_text
from archiver.formats.section_reader import Guess, Header, Item, items

# Changes whenever the JSON Lines layout changes, so older curated files get rewritten (curated `columns` metadata).
FORMAT_FINGERPRINT = hashlib.sha256(f"{','.join(n for n, _ in JSON_COLUMNS)};jsonl;v2".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Section:
    """One table of the file: its name, header (as keyed), first line and data rows written."""

    name: str | None
    header: tuple[str, ...]
    line: int
    rows: int


@dataclass(frozen=True)
class Sectioned:
    """Facts about a curated JSON Lines file that was written."""

    rows: int
    size: int
    sha256: str
    sections: tuple[Section, ...]
    guesses: tuple[str, ...] = ()  # each doubtful decision: `line N: what was decided`


@contextmanager
def _items(source: Path, max_bytes: int | None) -> Iterator[Iterator[Item]]:
    """The headers and rows of the decompressed, decoded file (archiver.formats.decode); failures as ReportFormatError."""
    try:
        with open_text(source, max_bytes, allow_plain=True) as text:
            yield items(text)
    except csv.Error as exc:
        raise ReportFormatError(f"report is not valid CSV: {exc}") from None


def curate_sections(source: Path, target: BinaryIO, max_bytes: int | None = None) -> Sectioned:
    """Write the rows of `source` as gzip JSON Lines `{"section", "line", "fields", "cells"}` into `target`."""
    with _items(source, max_bytes) as found:  # first pass: is there more than one table?
        tables = sum(isinstance(item, Header) for item in found)
    if tables == 0:
        raise ReportFormatError("report holds no table: no header row of two or more names")
    sink = HashingWriter(target)
    sections: list[Section] = []
    guesses: list[str] = []
    with _items(source, max_bytes) as found, gzip.GzipFile(filename="", fileobj=sink, mode="wb", compresslevel=6, mtime=0) as packed:
        for item in found:
            if isinstance(item, Header):
                name = item.title if tables > 1 else None
                sections.append(Section(name, item.keys, item.line, 0))
                continue
            if isinstance(item, Guess):
                guesses.append(f"line {item.line}: {item.what}")
                continue
            record = {"section": name, "line": item.line, "fields": item.fields, "cells": item.cells}
            packed.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            sections[-1] = replace(sections[-1], rows=sections[-1].rows + 1)
    return Sectioned(sum(s.rows for s in sections), sink.size, sink.digest.hexdigest(), tuple(sections), tuple(guesses))
