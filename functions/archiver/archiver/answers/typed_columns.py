"""Per section, the keys a curated JSON Lines file holds and the kind of their values; their view column names."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import IO

from archiver.answers.value_types import EMPTY, kind_of, merge
from archiver.formats.schema import normalise

Columns = dict[str, str]  # key as served -> kind (archiver.answers.value_types), in order of first appearance
Sections = dict[str | None, Columns]  # section (None: the file's one table, or a table without a title) -> its keys
# The views' own columns, and `account`, kept free for the developer-account column a multi-account archive will add,
# so that adding it never renames a column queries already use.
RESERVED = frozenset({"year", "month", "section", "line", "account"})
MAX_NAME = 100


def summarise(curated: IO[bytes]) -> Sections:
    """The sections, keys and kinds of a curated gzip JSON Lines object (archiver/formats/sections.py)."""
    found: Sections = {}
    with gzip.GzipFile(fileobj=curated) as lines:
        for line in lines:
            record = json.loads(line)
            columns = found.setdefault(record.get("section"), {})
            for key, value in (record.get("fields") or {}).items():
                columns[key] = merge(columns.get(key, EMPTY), kind_of(value if isinstance(value, str) else ""))
    return found


def combine(summaries: Iterable[Sections]) -> Sections:
    """Many files' summaries as one: sections and keys in order of first appearance, each key's kind merged."""
    merged: Sections = {}
    for sections in summaries:
        for section, columns in sections.items():
            into = merged.setdefault(section, {})
            for key, kind in columns.items():
                into[key] = merge(into.get(key, EMPTY), kind)
    return merged


def snake(text: str, fallback: str) -> str:
    """A readable snake_case name for a header or title: `Payment Amount` -> payment_amount."""
    name = normalise(text)[:MAX_NAME].strip("_") or fallback
    return f"c_{name}" if name[0].isdigit() else name


def unique_names(texts: Iterable[str], fallback: str, taken: Iterable[str] = ()) -> list[str]:
    """snake() of each text, made unique with `_2`, `_3`, ... (never one of `taken`)."""
    used, names = set(taken), []
    for text in texts:
        base = snake(text, fallback)
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names.append(name)
    return names


def to_json(sections: Sections) -> list[list[object]]:
    """Sections as JSON (a section may be null, so a list of [section, [[key, kind], ...]], in order)."""
    return [[section, [[key, kind] for key, kind in columns.items()]] for section, columns in sections.items()]


def from_json(value: object) -> Sections:
    """The inverse of to_json; ValueError on anything else."""
    if not isinstance(value, list):
        raise ValueError("sections must be a list")
    found: Sections = {}
    for section, columns in value:
        if not (section is None or isinstance(section, str)) or not isinstance(columns, list):
            raise ValueError(f"bad section entry {section!r}")
        found[section] = {str(key): str(kind) for key, kind in columns}
    return found
