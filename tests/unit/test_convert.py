"""Sniffing, streaming decompression and the curated canonical CSV."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from pathlib import Path

import pytest

from archiver.formats.sales_csv import CuratedDialect, ReportFormatError, curate, sniff
from archiver.formats.schema import CANONICAL_COLUMNS
from tests.unit.reports import SEED_HEADER, csv_bytes, gzipped, sample_rows, zipped


def run_curate(tmp_path: Path, data: bytes) -> tuple[list[list[str]], bytes]:
    source = tmp_path / "report.bin"
    source.write_bytes(data)
    target = tmp_path / "curated.csv.gz"
    with open(target, "wb") as handle:
        result = curate(source, handle)
    packed = target.read_bytes()
    assert result.size == len(packed)
    text = gzip.decompress(packed).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect=CuratedDialect))
    assert result.rows == len(rows) - 1
    return rows, packed


def test_sniff_by_magic_bytes_not_name(tmp_path: Path) -> None:
    for name, data, kind in (("a.gz", zipped(b"x"), "zip"), ("a.zip", gzipped(b"x"), "gzip")):
        (tmp_path / name).write_bytes(data)
        assert sniff(tmp_path / name) == kind
    (tmp_path / "plain.gz").write_bytes(b"Marketplace,Units\n")
    assert sniff(tmp_path / "plain.gz") == "plain"  # curate refuses it (tests/unit/test_decode.py)


def test_curated_file_has_canonical_header_and_values(tmp_path: Path) -> None:
    source_rows = sample_rows("2024-03", 6)
    rows, packed = run_curate(tmp_path, zipped(csv_bytes(SEED_HEADER, source_rows, bom=True)))
    assert rows[0] == list(CANONICAL_COLUMNS)
    assert not packed.startswith(b"\xef\xbb\xbf")
    assert len(rows) == 7
    for source, curated in zip(source_rows, rows[1:], strict=True):
        expected = [v.replace("\r\n", " ").replace("\n", " ") for v in source] + [""] * 6
        assert curated == expected
    assert rows[1][7] == 'Café, "Deluxe"'
    assert rows[3][7] == "Multi Line Title"


def test_backslashes_and_quotes_round_trip_as_athena_reads_them(tmp_path: Path) -> None:
    titles = ["C:\\", "a\\b", '"Quoted" start', 'ends with quote"', '\\"mixed\\', ""]
    source_rows = [[*row[:7], title, *row[8:]] for row, title in zip(sample_rows("2024-03", len(titles)), titles, strict=True)]
    rows, packed = run_curate(tmp_path, gzipped(csv_bytes(SEED_HEADER, source_rows)))
    assert [row[7] for row in rows[1:]] == titles
    text = gzip.decompress(packed).decode()
    assert '"C:\\\\"' in text and '"\\"Quoted\\" start"' in text  # every field quoted; \ escapes " and \


def test_zip_gzip_and_multi_member_gzip_give_identical_curated_bytes(tmp_path: Path) -> None:
    data = csv_bytes(SEED_HEADER, sample_rows("2024-03", 50))
    outputs = {run_curate(tmp_path, blob)[1] for blob in (zipped(data), gzipped(data), gzipped(data, members=3))}
    assert len(outputs) == 1


def test_multi_member_gzip_keeps_every_row(tmp_path: Path) -> None:
    data = csv_bytes(SEED_HEADER, sample_rows("2024-03", 40))
    rows, _ = run_curate(tmp_path, gzipped(data, members=4))
    assert len(rows) == 41


def test_columns_are_mapped_by_name_not_position(tmp_path: Path) -> None:
    header = ["Estimated Earnings", "Promotion ID", "Currency", "Transaction ID", "Title"]
    rows, _ = run_curate(tmp_path, gzipped(csv_bytes(header, [["1.39", "P1", "EUR", "T1", "Ünïcode 日本"]])))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["estimated_earnings"] == "1.39"
    assert record["marketplace_currency"] == "EUR"
    assert record["transaction_id"] == "T1"
    assert record["title"] == "Ünïcode 日本"
    assert record["marketplace"] == ""
    assert "Promotion ID" not in rows[0] and "P1" not in rows[1]


def test_header_only_report(tmp_path: Path) -> None:
    rows, _ = run_curate(tmp_path, zipped(csv_bytes(SEED_HEADER, [])))
    assert rows == [list(CANONICAL_COLUMNS)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: gzipped(d)[:-20], "decompressed completely"),
        (lambda d: zipped(d)[:-30], "ZIP"),
        (lambda d: gzipped(d)[:30] + b"\x00" * 40 + gzipped(d)[70:], "decompress"),
        (lambda d: zipped(b"", extra={}) if False else _zip_members({}), "exactly one CSV, found 0"),
        (lambda d: _zip_members({"a.csv": d, "b.csv": d}), "exactly one CSV, found 2"),
        (lambda d: gzipped(b""), "empty"),
        (lambda d: gzipped(d + b"Amazon.com,Caf\xe9\r\n"), "not valid UTF-8"),
        (lambda d: gzipped(d + b'Amazon.com,"unterminated\n'), "fields|CSV"),
        (lambda d: gzipped(d + b"one,two\r\n"), "has 2 fields, header has 16"),
        (lambda d: gzipped(d + b"x," * 16 + b"x\r\n"), "has 17 fields, header has 16"),
        (lambda d: gzipped(b"Promotion ID,Foo\r\nP1,x\r\n"), "no known sales column"),
        (lambda d: gzipped(b"\r\n" + d), "no known sales column"),
        (lambda d: b"\x1f\x8b" + b"\x00" * 30, "decompress"),
        (lambda d: d, "neither gzip nor ZIP"),
    ],
)
def test_broken_reports_fail_clearly(tmp_path: Path, make: object, message: str) -> None:
    data = csv_bytes(SEED_HEADER, sample_rows("2024-03", 30))
    blob = make(data)  # type: ignore[operator]
    with pytest.raises(ReportFormatError, match=message):
        run_curate(tmp_path, blob)


def test_a_column_that_loses_a_tie_is_drift_not_a_failure(tmp_path: Path) -> None:
    header = ["Sales Price (USD)", *SEED_HEADER, "Estimated Earnings (USD)"]
    source_rows = [["2.10", *row, "1.47"] for row in sample_rows("2024-03", 3)]
    source = tmp_path / "report.bin"
    source.write_bytes(gzipped(csv_bytes(header, source_rows)))
    with open(tmp_path / "curated.csv.gz", "wb") as target:
        result = curate(source, target)
    assert result.unknown_columns == ("Sales Price (USD)", "Estimated Earnings (USD)")
    rows, _ = run_curate(tmp_path, gzipped(csv_bytes(header, source_rows)))
    expected, _ = run_curate(tmp_path, gzipped(csv_bytes(SEED_HEADER, sample_rows("2024-03", 3))))
    assert rows == expected  # the seed's marketplace-currency columns, not the USD ones


def _zip_members(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", b"hello")
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_corrupt_zip_member_fails_crc(tmp_path: Path) -> None:
    data = csv_bytes(SEED_HEADER, sample_rows("2024-03", 30))
    blob = bytearray(zipfile_stored(data))
    blob[len(blob) // 3] ^= 0xFF
    with pytest.raises(ReportFormatError):
        run_curate(tmp_path, bytes(blob))


def zipfile_stored(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("sales.csv", data)
    return buffer.getvalue()
