"""Split CSV records into titled tables as a stream of Header and Row items (rules in archiver/sections.py)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

NOTES = "notes"


@dataclass(frozen=True)
class Header:
    """A table starts: its title line (if any), its keys and the line of its header record."""

    title: str | None
    keys: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Row:
    """One data row: the line its record starts on and its values by key."""

    line: int
    fields: dict[str, str]


def keyed(names: list[str]) -> tuple[str, ...]:
    """Header names as keys: empty ones `(column N)`, repeats (case-insensitive) suffixed ` (2)`, ` (3)`, ..."""
    keys: list[str] = []
    seen: set[str] = set()
    for number, name in enumerate(names, start=1):
        base = name if name.strip() else f"(column {number})"
        key, count = base, 1
        while key.casefold() in seen:
            count += 1
            key = f"{base} ({count})"
        seen.add(key.casefold())
        keys.append(key)
    return tuple(keys)


def row_fields(names: list[str], keys: tuple[str, ...], record: list[str]) -> dict[str, str]:
    """A record's values by key: missing trailing values empty, non-empty extra values under `(column N)`."""
    fields = dict(zip(keys, record + [""] * (len(keys) - len(record)), strict=False))
    if len(record) > len(keys):
        wide = keyed(names + [""] * (len(record) - len(names)))
        fields.update({wide[i]: record[i] for i in range(len(keys), len(record)) if record[i] != ""})
    return fields


def records(text: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the 1-based line it starts on."""
    reader = csv.reader(text, strict=True)
    last = 0
    for record in reader:
        yield last + 1, record
        last = reader.line_num


class _Splitter:
    """The state between records: pending title lines, the current table, a notes block, a held title."""

    def __init__(self) -> None:
        self.titles: list[str] = []
        self.names: list[str] | None = None  # the current table's header as served; None between tables
        self.keys: tuple[str, ...] = ()
        self.notes = False
        self.held: tuple[int, str] | None = None  # a one-field record inside rows: a title if a record follows

    def title(self, line: int, value: str) -> Iterator[Header]:
        """A title line between tables; `Notes` starts a notes block."""
        self.names, self.titles = None, [*self.titles, value.strip()]
        if value.strip().casefold() == NOTES:
            self.notes, self.titles = True, []
            yield Header(value.strip(), ("Note",), line)

    def feed(self, line: int, record: list[str]) -> Iterator[Header | Row]:
        """The items one record completes."""
        filled = [v for v in record if v.strip()]
        if self.held is not None:
            held, self.held = self.held, None
            if filled:  # a title, then this record (a header or another title) starts a new table
                self.titles = []
                yield from self.title(*held)
            else:
                yield Row(held[0], row_fields(self.names or [], self.keys, [held[1]]))
        if not filled:  # a blank record ends a table or a notes block
            if self.names is not None or self.notes:
                self.names, self.titles, self.notes = None, [], False
        elif self.notes:
            yield Row(line, dict(zip(keyed(["Note"] * len(filled)), filled, strict=True)))
        elif self.names is None and len(filled) == 1:
            yield from self.title(line, filled[0])
        elif self.names is None:
            self.names, self.keys = record, keyed(record)
            yield Header(self.titles[-1] if self.titles else None, self.keys, line)
        elif len(record) == 1 and len(self.names) >= 2:
            self.held = (line, record[0])
        else:
            yield Row(line, row_fields(self.names, self.keys, record))


def items(text: IO[str]) -> Iterator[Header | Row]:
    """Headers and rows of every table in the text, in file order."""
    splitter = _Splitter()
    for line, record in records(text):
        yield from splitter.feed(line, record)
    if splitter.held is not None:
        line, value = splitter.held
        yield Row(line, row_fields(splitter.names or [], splitter.keys, [value]))
