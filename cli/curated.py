"""The curated object's checks: its hash, that it parses as its type's table reads it, its rows and its format."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from typing import Any

from archiver.formats.sales_csv import COLUMNS_FINGERPRINT, CuratedDialect
from archiver.formats.sections import FORMAT_FINGERPRINT
from cli.checks import Problem
from cli.inventory import MonthRecord, ReportArchive

UNREADABLE = (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error, ValueError)


def _csv_rows(text: str, columns: list[str]) -> int:
    """Data rows of a curated CSV read with the table's dialect: its header is the Glue columns, every row as wide."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect=CuratedDialect)
    header = next(reader, [])
    if header != columns:
        raise ValueError(f"header differs from the Glue columns: {header[:4]}…")
    rows = 0
    for row in reader:
        if len(row) != len(columns):
            raise ValueError(f"line {reader.line_num} has {len(row)} fields, the table has {len(columns)} columns")
        rows += 1
    return rows


def _fits(value: Any, glue_type: str) -> bool:
    """Whether a JSON value is one Hive's JSON SerDe reads into a column of this Glue type."""
    if glue_type == "string":
        return value is None or isinstance(value, str)
    if glue_type in ("bigint", "int", "smallint", "tinyint"):
        return isinstance(value, int) and not isinstance(value, bool)
    if glue_type == "map<string,string>":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if glue_type == "array<string>":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return True  # a type the JSON tables do not use: the table check reports the column itself


def _jsonl_rows(text: str, columns: list[tuple[str, str]]) -> int:
    """Objects of a curated JSON Lines file, each with exactly the table's columns as keys and values of their types."""
    names = sorted(name for name, _ in columns)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last line
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise ValueError(f"line {number} is a JSON {type(record).__name__}, not an object")
        if sorted(record) != names:
            raise ValueError(f"line {number} has the keys {sorted(record)}, the table's columns are {names}")
        for name, glue_type in columns:
            if not _fits(record[name], glue_type):
                raise ValueError(f"line {number}: {name} is a JSON {type(record[name]).__name__}, the column is {glue_type}")
    return len(lines)


def check_curated(s3: Any, part: ReportArchive, record: MonthRecord) -> list[Problem]:
    """The curated object exists, matches its sha256, parses as its table reads it, holds its `rows`, in the current format."""
    curated, report = record.curated, part.report
    at = {"month": str(record.month), "report": report.name}
    if curated is None:
        return [Problem("curated", "archived period has no curated object", **at)] if record.raw else []
    body = s3.get_object(Bucket=part.store.bucket, Key=curated.key)["Body"].read()
    meta = curated.metadata
    if meta.get("sha256") != hashlib.sha256(body).hexdigest():
        return [Problem("curated", "curated object's SHA-256 differs from its metadata", key=curated.key, **at)]
    jsonl = report.curated == "jsonl"
    try:
        text = gzip.decompress(body).decode("utf-8")
        rows = _jsonl_rows(text, part.table.columns) if jsonl else _csv_rows(text, [name for name, _ in part.table.columns])
    except UNREADABLE as exc:
        how = "as JSON Lines of the table's columns" if jsonl else "with the table's dialect"
        return [Problem("curated", f"curated object does not parse {how}: {exc}", key=curated.key, **at)]
    found: list[Problem] = []
    if meta.get("rows") != str(rows):
        found.append(Problem("curated", f"curated object has {rows} rows, its metadata says {meta.get('rows')}", key=curated.key, **at))
    if meta.get("columns") != (FORMAT_FINGERPRINT if jsonl else COLUMNS_FINGERPRINT):
        found.append(Problem("curated", "curated object was written in an older format (columns fingerprint)", key=curated.key, **at))
    return found
