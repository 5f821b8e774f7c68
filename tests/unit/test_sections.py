"""Schema-free curation: sections, keys, line numbers, values as served, and what is refused."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archiver.core.errors import ReportFormatError, ReportTooLarge
from archiver.core.report_types import JSON_COLUMNS
from archiver.formats.row_keys import keyed
from archiver.formats.section_reader import records
from archiver.formats.sections import FORMAT_FINGERPRINT, curate_sections

SUMMARY = (
    "Marketplace,From Date,To Date,Charge Units,Refund Units,Gross Earnings,Gross Earnings Currency Code,Refunds,"
    "Refunds Currency Code,Adjustments,Adjustments Currency Code,Earnings Before Tax,Earnings Before Tax Currency Code"
)
EARNINGS_2014 = (
    "Amazon Mobile App Distribution\r\n"
    "Earnings Report\r\n"
    "1/1/2014 - 1/31/2014\r\n"
    "\r\n"
    "Notes\r\n"
    "Amounts are shown in the marketplace currency\r\n"
    '"Refunds, adjustments and taxes are shown separately"\r\n'
    "\r\n"
    "Summary\r\n"
    f"{SUMMARY}\r\n"
    'Amazon.com,1/1/2014,1/31/2014,"3,121",12,"6,210.79",USD,(4.18),USD,0.00,USD,"6,206.61",USD\r\n'
    "Amazon.de,1/1/2014,1/31/2014,40,0,79.60,EUR,0.00,EUR,0.00,EUR,79.60,EUR\r\n"
    "\r\n"
    "Detail\r\n"
    "Marketplace,App,Units,Earnings\r\n"
    'Amazon.com,"The ""Quiet"" Garden",5,(4.18)\r\n'
)


def run(tmp_path: Path, data: bytes, **options: Any) -> tuple[list[dict[str, Any]], Any]:
    """Curate `data`; the decoded JSON objects and the facts (checked against the written bytes)."""
    source = tmp_path / "report.bin"
    source.write_bytes(data)
    target = io.BytesIO()
    facts = curate_sections(source, target, **options)
    packed = target.getvalue()
    assert (facts.size, facts.sha256) == (len(packed), hashlib.sha256(packed).hexdigest())
    lines = gzip.decompress(packed).decode("utf-8").split("\n")
    assert lines[-1] == ""
    objects = [json.loads(line) for line in lines[:-1]]
    assert facts.rows == len(objects) == sum(s.rows for s in facts.sections)
    assert all(list(o) == [name for name, _ in JSON_COLUMNS] for o in objects)
    return objects, facts


def test_the_2014_earnings_layout(tmp_path: Path) -> None:
    objects, facts = run(tmp_path, EARNINGS_2014.encode())
    assert [(s.name, s.line, s.rows) for s in facts.sections] == [("Notes", 5, 2), ("Summary", 10, 2), ("Detail", 15, 1)]
    notes, summary, detail = objects[:2], objects[2:4], objects[4:]
    note = "Refunds, adjustments and taxes are shown separately"
    assert notes[1] == {"section": "Notes", "line": 7, "fields": {"Note": note}, "cells": [note]}
    assert summary[0]["section"] == "Summary" and summary[0]["line"] == 11
    assert list(summary[0]["fields"]) == SUMMARY.split(",")
    assert summary[0]["fields"]["Charge Units"] == "3,121"
    assert summary[0]["fields"]["Refunds"] == "(4.18)"
    assert summary[0]["fields"]["Earnings Before Tax"] == "6,206.61"
    assert summary[1]["fields"]["Marketplace"] == "Amazon.de"
    assert detail == [
        {
            "section": "Detail",
            "line": 16,
            "fields": {"Marketplace": "Amazon.com", "App": 'The "Quiet" Garden', "Units": "5", "Earnings": "(4.18)"},
            "cells": ["Amazon.com", 'The "Quiet" Garden', "5", "(4.18)"],
        }
    ]


CASES: list[tuple[str, str, list[tuple[Any, int, dict[str, str]]]]] = [
    ("one table: section null", "a,b\n1,2\n3,4\n", [(None, 2, {"a": "1", "b": "2"}), (None, 3, {"a": "3", "b": "4"})]),
    ("titles above the only table: still null", "Earnings Report\n2024\n\nx,y\n1,2\n", [(None, 5, {"x": "1", "y": "2"})]),
    (
        "quoted newline kept, line of the record start",
        'a,b\n"one\r\ntwo",2\n3,4\n',
        [(None, 2, {"a": "one\r\ntwo", "b": "2"}), (None, 4, {"a": "3", "b": "4"})],
    ),
    ("values verbatim: spaces, quotes", 'a,b\n" x ","say ""hi"""\n', [(None, 2, {"a": " x ", "b": 'say "hi"'})]),
    ("header names as served", " Payment Amount ,b\n1,2\n", [(None, 2, {" Payment Amount ": "1", "b": "2"})]),
    ("duplicate names", "a,A,a,a (2)\n1,2,3,4\n", [(None, 2, {"a": "1", "A (2)": "2", "a (3)": "3", "a (2) (2)": "4"})]),
    ("empty names", "a,,b,\n1,2,3,4\n", [(None, 2, {"a": "1", "(column 2)": "2", "b": "3", "(column 4)": "4"})]),
    ("narrow rows padded", "a,b,c\n1,2\n2,3\n", [(None, 2, {"a": "1", "b": "2", "c": ""}), (None, 3, {"a": "2", "b": "3", "c": ""})]),
    ("wide row keeps non-empty extras", "a,b\n1,2,,x\n", [(None, 2, {"a": "1", "b": "2", "(column 4)": "x"})]),
    ("blank lines inside a table end it", "a,b\n1,2\n\n\n", [(None, 2, {"a": "1", "b": "2"})]),
    ("comma-only lines are blank", "T1\na,b\n1,2\n,,\nT2\nc,d\n3,4\n", [("T1", 3, {"a": "1", "b": "2"}), ("T2", 7, {"c": "3", "d": "4"})]),
    (
        "title without a blank line before it",
        "Summary\na,b\n1,2\nDetail\nc,d\n3,4\n",
        [("Summary", 3, {"a": "1", "b": "2"}), ("Detail", 6, {"c": "3", "d": "4"})],
    ),
    ("a one-field last row is a row", "a,b\n1,2\nTotal\n", [(None, 2, {"a": "1", "b": "2"}), (None, 3, {"a": "Total", "b": ""})]),
    ("untitled second table", "a,b\n1,2\n\nc,d\n3,4\n", [(None, 2, {"a": "1", "b": "2"}), (None, 5, {"c": "3", "d": "4"})]),
    ("header-only table", "a,b\n", []),
    ("a BOM is not part of the first name", "\ufeffa,b\n1,2\n", [(None, 2, {"a": "1", "b": "2"})]),
    ("unicode kept", 'Titel,Preis\nÄpfel 🍎,"1,00"\n', [(None, 2, {"Titel": "Äpfel 🍎", "Preis": "1,00"})]),
]


@pytest.mark.parametrize(("text", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_layouts(tmp_path: Path, text: str, expected: list[tuple[Any, int, dict[str, str]]]) -> None:
    objects, _ = run(tmp_path, text.encode())
    assert [(o["section"], o["line"], o["fields"]) for o in objects] == expected
    served = dict(records(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert all(o["cells"] == served[o["line"]] for o in objects)  # the record's values, in order


def test_the_2014_layout_needs_no_guess(tmp_path: Path) -> None:
    _, facts = run(tmp_path, EARNINGS_2014.encode())
    assert facts.guesses == ()
    assert hashlib.sha256(b"section,line,fields;jsonl;v1").hexdigest()[:16] != FORMAT_FINGERPRINT  # re-curates older months


# The four doubtful layouts: every value of every data row is kept in `cells`, rows are keyed by the header, the guess is counted.
GUESSES: list[tuple[str, str, list[tuple[Any, dict[str, str], list[str]]], list[str]]] = [
    (
        "a blank record inside a table",
        "Marketplace,Units,Earnings\nAmazon.com,5,1.00\n\nAmazon.de,3,(4.18)\nAmazon.fr,1,0.50\n",
        [
            (None, {"Marketplace": "Amazon.com", "Units": "5", "Earnings": "1.00"}, ["Amazon.com", "5", "1.00"]),
            (None, {"Marketplace": "Amazon.de", "Units": "3", "Earnings": "(4.18)"}, ["Amazon.de", "3", "(4.18)"]),
            (None, {"Marketplace": "Amazon.fr", "Units": "1", "Earnings": "0.50"}, ["Amazon.fr", "1", "0.50"]),
        ],
        ["line 4: blank record inside a table"],
    ),
    (
        "a two-field preamble line",
        "Report Period,1/1/2024 - 1/31/2024\nMarketplace,Units,Earnings\nAmazon.com,5,1.00\n",
        [(None, {"Marketplace": "Amazon.com", "Units": "5", "Earnings": "1.00"}, ["Amazon.com", "5", "1.00"])],
        ["line 1: two-field line 'Report Period, 1/1/2024 - 1/31/2024' taken as a preamble line"],
    ),
    (
        "a row with no comma",
        "Marketplace,Units,Earnings\nAmazon.com,5,1.00\nAdjustment pending\nAmazon.de,3,2.00\n",
        [
            (None, {"Marketplace": "Amazon.com", "Units": "5", "Earnings": "1.00"}, ["Amazon.com", "5", "1.00"]),
            (None, {"Marketplace": "Adjustment pending", "Units": "", "Earnings": ""}, ["Adjustment pending"]),
            (None, {"Marketplace": "Amazon.de", "Units": "3", "Earnings": "2.00"}, ["Amazon.de", "3", "2.00"]),
        ],
        ["line 3: one-field record 'Adjustment pending' inside a table kept as a (narrow) data row"],
    ),
    (
        "a notes block with no blank line before the next section",
        "Notes\nAmounts in marketplace currency\nSummary\nMarketplace,Units,Earnings\nAmazon.com,5,1.00\n",
        [
            ("Notes", {"Note": "Amounts in marketplace currency"}, ["Amounts in marketplace currency"]),
            ("Summary", {"Marketplace": "Amazon.com", "Units": "5", "Earnings": "1.00"}, ["Amazon.com", "5", "1.00"]),
        ],
        ["line 3: notes block ends without a blank line: 'Summary' taken as the title"],
    ),
]


@pytest.mark.parametrize(("text", "expected", "guesses"), [c[1:] for c in GUESSES], ids=[c[0] for c in GUESSES])
def test_doubtful_layouts_keep_every_value_and_count_the_guess(
    tmp_path: Path, text: str, expected: list[tuple[Any, dict[str, str], list[str]]], guesses: list[str]
) -> None:
    objects, facts = run(tmp_path, text.encode())
    assert [(o["section"], o["fields"], o["cells"]) for o in objects] == expected
    assert len(facts.guesses) == len(guesses)
    assert all(found.startswith(wanted) for found, wanted in zip(facts.guesses, guesses, strict=True)), facts.guesses


@pytest.mark.parametrize(
    ("text", "guessed"),
    [
        ("a,b\n1,2\nTotal\n", "one-field record 'Total' inside a table kept as a (narrow) data row"),
        ("Summary\na,b\n1,2\nDetail\nc,d\n3,4\n", "one-field record 'Detail' inside a table taken as the title of a new table"),
        ("a,b\n1,2,,x\n", "row wider than its header (4 fields, 2 names): extras keyed by position"),
        ("Notes\nnote,one\nMarketplace,Units,Earnings\nAmazon.com,5,1.00\n", "notes block ends without a blank line: this record"),
    ],
)
def test_every_other_guess_is_counted(tmp_path: Path, text: str, guessed: str) -> None:
    _, facts = run(tmp_path, text.encode())
    assert len(facts.guesses) == 1 and guessed in facts.guesses[0], facts.guesses


def test_compressed_and_plain_inputs_give_the_same_file(tmp_path: Path) -> None:
    plain = EARNINGS_2014.encode()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("earnings.csv", plain)
    members = gzip.compress(plain[:100]) + gzip.compress(plain[100:])
    digests = {run(tmp_path, data)[1].sha256 for data in (plain, gzip.compress(plain), members, archive.getvalue())}
    assert len(digests) == 1


def test_newlines_stay_inside_one_json_line(tmp_path: Path) -> None:
    source = tmp_path / "r.csv"
    source.write_bytes(b'a,b\n"x\ny\rz",2\n')
    target = io.BytesIO()
    curate_sections(source, target)
    assert gzip.decompress(target.getvalue()).count(b"\n") == 1


def test_json_lines_are_written_as_the_hive_json_serde_reads_them(tmp_path: Path) -> None:
    """Plain JSON (Jackson): quotes, backslashes and control characters escaped, other text as UTF-8, keys as served."""
    tricky = 'C:\\ "q" \\N \u2028 \x00\x1f Äpfel 🍎 \t'
    source = tmp_path / "r.csv"
    source.write_bytes(('"Amount \\ ""x""",b\n"' + tricky.replace('"', '""') + '",2\n').encode())
    target = io.BytesIO()
    curate_sections(source, target)
    line = gzip.decompress(target.getvalue()).decode("utf-8").rstrip("\n")
    assert "\n" not in line and "\r" not in line and not any(ord(c) < 0x20 for c in line)
    assert "\\u0000" in line and "Äpfel 🍎" in line and "\\\\N" in line and '\\"q\\"' in line
    record = json.loads(line)
    assert record["fields"] == {'Amount \\ "x"': tricky, "b": "2"} and record["cells"] == [tricky, "2"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no table"),
        (b"Earnings Report\n\nNothing this month\n", "no table"),
        (b"<html><body>Service Unavailable</body></html>\n", "no table"),
        (b"a,b\n\xff\xfe,2\n", "not valid UTF-8"),
        (b'a,b\n"open,2\n', "not valid CSV"),
        (gzip.compress(b"a,b\n1,2\n" * 100)[:-20], "decompressed completely"),
        (b"PK\x03\x04garbage", "ZIP"),
    ],
)
def test_refused_inputs(tmp_path: Path, data: bytes, message: str) -> None:
    source = tmp_path / "r.bin"
    source.write_bytes(data)
    with pytest.raises(ReportFormatError, match=message):
        curate_sections(source, io.BytesIO())


@pytest.mark.parametrize("pack", [lambda b: b, gzip.compress], ids=["plain", "gzip"])
def test_decompressed_size_cap(tmp_path: Path, pack: Any) -> None:
    data = pack(b"a,b\n" + b"1,2\n" * 10_000)
    run(tmp_path, data, max_bytes=40_004)
    with pytest.raises(ReportTooLarge, match="more than 40003 bytes") as raised:
        run(tmp_path, data, max_bytes=40_003)
    assert raised.value.limit == 40_003


def test_a_decompression_bomb_is_stopped_at_the_cap(tmp_path: Path) -> None:
    source = tmp_path / "bomb.gz"
    with gzip.open(source, "wb", compresslevel=1) as out:
        out.write(b"Marketplace,Payment Amount\n")
        for _ in range(64):
            out.write(b"Amazon.com,1.00\n" * 65_536)  # 64 MB in all
    assert source.stat().st_size < 1024 * 1024
    with pytest.raises(ReportTooLarge):
        curate_sections(source, io.BytesIO(), max_bytes=1024 * 1024)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("pack", [lambda b: b, gzip.compress], ids=["plain", "gzip"])
def test_utf16_with_a_bom_gives_the_same_file_as_utf8(tmp_path: Path, codec: str, pack: Any) -> None:
    bom = "" if codec == "utf-16" else "\ufeff"  # the utf-16 codec writes its own BOM
    text = EARNINGS_2014.replace("Amazon.de", "Amazon.de Äpfel")
    expected = run(tmp_path, text.encode("utf-8"))[1]
    objects, facts = run(tmp_path, pack((bom + text).encode(codec)))
    assert facts.sha256 == expected.sha256
    assert objects[3]["fields"]["Marketplace"] == "Amazon.de Äpfel"


def test_latin1_is_refused_not_reinterpreted(tmp_path: Path) -> None:
    source = tmp_path / "r.csv"
    source.write_bytes("Titel,Preis\nÄpfel,1\n".encode("latin-1"))
    with pytest.raises(ReportFormatError, match="not valid UTF-8"):
        curate_sections(source, io.BytesIO())


def test_a_field_over_the_csv_modules_default_limit_is_kept(tmp_path: Path) -> None:
    csv.field_size_limit(131_072)  # as another library in the process might leave it
    objects, _ = run(tmp_path, b"a,b\n1," + b"x" * 300_000 + b"\n")
    assert objects[0]["fields"]["b"] == "x" * 300_000


def test_keyed_is_stable_and_unique() -> None:
    names = ["x", "X", "", "x (2)", "x"]
    keys = keyed(names)
    assert len({k.casefold() for k in keys}) == len(keys)
    assert keys == keyed(names)
