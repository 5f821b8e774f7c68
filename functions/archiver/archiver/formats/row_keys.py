"""How a schema-free row is keyed: header names as keys, a record's values by key, and what reads as data."""

from __future__ import annotations

import re

# A value that reads as data, not as a column name: a number, amount or date such as 3,121 (4.18) 1/1/2014 12%.
_DATA = re.compile(r"[-+(]?[$€£¥]?\d[\d.,:/ -]*\)?%?")


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


def data_like(values: list[str]) -> bool:
    """Whether any value reads as a number, amount or date (a header's names do not)."""
    return any(_DATA.fullmatch(v.strip()) for v in values)
