"""Split CSV records into titled tables as a stream of Header, Row and Guess items (rules in archiver/formats/sections.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from archiver.formats.row_keys import data_like, keyed, row_fields

NOTES = "notes"


@dataclass(frozen=True)
class Header:
    """A table starts: its title line (if any), its keys and the line of its header record."""

    title: str | None
    keys: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Row:
    """One data row: the line its record starts on, its values by key and the record's values in order."""

    line: int
    fields: dict[str, str]
    cells: list[str]


@dataclass(frozen=True)
class Guess:
    """A doubtful decision of the splitter: the line of the record it concerns and what was decided."""

    line: int
    what: str


Item = Header | Row | Guess


def records(text: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the 1-based line it starts on."""
    reader = csv.reader(text, strict=True)
    last = 0
    for record in reader:
        yield last + 1, record
        last = reader.line_num


class _Splitter:
    """The state between records: title lines, the current (or last ended) table, a notes block, a held record."""

    def __init__(self) -> None:
        self.titles: list[str] = []
        self.names: list[str] | None = None  # the current table's header as served; None between tables
        self.keys: tuple[str, ...] = ()
        self.ended: tuple[list[str], tuple[str, ...]] | None = None  # the table a blank record ended, no title since
        self.notes = False
        self.held: tuple[str, int, list[str]] | None = None  # a record whose meaning the next record decides

    def title(self, line: int, value: str) -> Iterator[Item]:
        """A title line between tables; `Notes` starts a notes block."""
        self.names, self.ended, self.titles = None, None, [*self.titles, value.strip()]
        if value.strip().casefold() == NOTES:
            self.notes, self.titles = True, []
            yield Header(value.strip(), ("Note",), line)

    def header(self, line: int, record: list[str]) -> Iterator[Item]:
        """A table starts with this header record."""
        self.names, self.keys, self.ended, self.notes = record, keyed(record), None, False
        yield Header(self.titles[-1] if self.titles else None, self.keys, line)

    def row(self, line: int, record: list[str]) -> Iterator[Item]:
        """A data row of the current table (a wide row's extras keyed by position is a guess)."""
        names = self.names or []
        if len(record) > len(names) and any(v.strip() for v in record[len(names) :]):
            yield Guess(line, f"row wider than its header ({len(record)} fields, {len(names)} names): extras keyed by position")
        yield Row(line, row_fields(names, self.keys, record), record)

    def note(self, line: int, record: list[str]) -> Row:
        """A row of a notes block: its non-empty values under `Note`, `Note (2)`, ..."""
        filled = [v for v in record if v.strip()]
        return Row(line, dict(zip(keyed(["Note"] * len(filled)), filled, strict=True)), record)

    def settle(self, line: int, record: list[str]) -> Iterator[Item]:
        """Decide the held record given the record after it (an empty `record`: a blank record or the end)."""
        assert self.held is not None
        kind, at, value = self.held
        self.held = None
        filled = [v for v in record if v.strip()]
        headerish = len(filled) >= 3 and not data_like(filled)
        if kind == "header" and headerish:
            what = f"two-field line {', '.join(value)!r} taken as a preamble line"
            yield Guess(at, f"{what}, not the header of the {len(filled)}-field record after it")
            yield from self.title(at, ", ".join(value))
        elif kind == "header":
            yield from self.header(at, value)
        elif kind == "note" and headerish:
            yield Guess(at, f"notes block ends without a blank line: {value[0]!r} taken as the title of the table after it")
            self.notes = False
            yield from self.title(at, value[0])
        elif kind == "note":
            yield self.note(at, value)
        elif filled and not (len(filled) >= 2 and data_like(filled)):
            yield Guess(at, f"one-field record {value[0]!r} inside a table taken as the title of a new table")
            self.titles = []
            yield from self.title(at, value[0])
        else:
            yield Guess(at, f"one-field record {value[0]!r} inside a table kept as a (narrow) data row")
            yield from self.row(at, value)

    def feed(self, line: int, record: list[str]) -> Iterator[Item]:
        """The items one record completes."""
        if self.held is not None:
            yield from self.settle(line, record)
        filled = [v for v in record if v.strip()]
        if not filled:  # a blank record ends a table or a notes block
            if self.names is not None:
                self.ended = (self.names, self.keys)
            self.names, self.titles, self.notes = None, [], False
        elif self.notes and len(record) == 1:
            self.held = ("note", line, record)
        elif self.notes and len(filled) >= 3 and not data_like(filled):
            yield Guess(line, "notes block ends without a blank line: this record taken as a table's header")
            yield from self.header(line, record)
        elif self.notes:
            yield self.note(line, record)
        elif self.names is None and len(filled) == 1:
            yield from self.title(line, filled[0])
        elif self.names is None and self.ended and len(record) == len(self.ended[0]) and data_like(filled):
            yield Guess(line, "blank record inside a table: the data row after it continues the table")
            (self.names, self.keys), self.ended = self.ended, None
            yield from self.row(line, record)
        elif self.names is None and len(record) == 2:
            self.held = ("header", line, record)
        elif self.names is None:
            yield from self.header(line, record)
        elif len(record) == 1 and len(self.names) >= 2:
            self.held = ("row", line, record)
        else:
            yield from self.row(line, record)


def items(text: IO[str]) -> Iterator[Item]:
    """Headers, rows and guesses of every table in the text, in file order."""
    splitter = _Splitter()
    for line, record in records(text):
        yield from splitter.feed(line, record)
    if splitter.held is not None:
        yield from splitter.settle(0, [])
