"""Decoding a report before it is curated: BOMs, long fields, plain files and the decompression cap."""

from __future__ import annotations

import csv
import gzip
import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import IO

import pytest

from archiver.formats.decode import open_text
from archiver.formats.sales_csv import Curated, ReportFormatError, ReportTooLarge, curate, sniff
from tests.unit.reports import SEED_HEADER, csv_bytes, gzipped, sample_rows, zipped

TEXT = csv_bytes(SEED_HEADER, sample_rows("2024-03", 9)).decode("utf-8")


def curated(tmp_path: Path, data: bytes, max_bytes: int | None = None) -> tuple[Curated, bytes]:
    source, target = tmp_path / "report.bin", tmp_path / "curated.csv.gz"
    source.write_bytes(data)
    with open(target, "wb") as handle:
        result = curate(source, handle) if max_bytes is None else curate(source, handle, max_bytes)
    return result, target.read_bytes()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
@pytest.mark.parametrize("pack", [gzipped, zipped])
def test_a_bom_picks_the_encoding_and_the_curated_bytes_stay_the_same(tmp_path: Path, encoding: str, pack: object) -> None:
    codec, bom = (encoding[:-4], "\ufeff") if encoding.endswith("-bom") else (encoding, "")
    _, expected = curated(tmp_path, gzipped(TEXT.encode("utf-8")))
    result, packed = curated(tmp_path, pack((bom + TEXT).encode(codec)))  # type: ignore[operator]
    assert packed == expected and result.rows == 9
    assert "Café" in gzip.decompress(packed).decode("utf-8")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (TEXT.encode("utf-16-le"), "NUL bytes: UTF-16 without a byte-order mark"),
        (TEXT.replace("Café", "Caf\udce9").encode("utf-8", "surrogateescape"), "not valid UTF-8"),  # a Latin-1 é
        (TEXT.encode("utf-16") + b"\x00", "not valid UTF-16"),  # an odd trailing byte
        (TEXT.encode("utf-32"), "UTF-32"),
    ],
)
def test_text_that_cannot_be_decoded_fails_clearly(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ReportFormatError, match=message):
        curated(tmp_path, gzipped(data))


def test_a_field_over_the_csv_modules_default_limit_is_kept(tmp_path: Path) -> None:
    long_title = "x" * 300_000
    rows = sample_rows("2024-03", 2)
    rows[1][7] = long_title
    csv.field_size_limit(131_072)  # as another library in the process might leave it
    result, packed = curated(tmp_path, zipped(csv_bytes(SEED_HEADER, rows)))
    assert result.rows == 2
    assert long_title in gzip.decompress(packed).decode("utf-8")


def test_a_plain_file_is_sniffed_as_plain_and_refused(tmp_path: Path) -> None:
    (tmp_path / "plain.gz").write_bytes(TEXT.encode())
    assert sniff(tmp_path / "plain.gz") == "plain"
    with pytest.raises(ReportFormatError, match="neither gzip nor ZIP"):
        curated(tmp_path, TEXT.encode())


def test_plain_text_is_read_only_when_the_caller_allows_it(tmp_path: Path) -> None:
    (tmp_path / "plain.csv").write_bytes(b"\xff\xfe" + TEXT.encode("utf-16-le"))
    with open_text(tmp_path / "plain.csv", allow_plain=True) as text:
        assert text.read() == TEXT
    with pytest.raises(ReportFormatError, match="neither gzip nor ZIP"), open_text(tmp_path / "plain.csv"):
        pass


@pytest.mark.parametrize("pack", [gzipped, zipped, lambda data: gzipped(data, members=4)])
def test_the_cap_counts_decompressed_bytes(tmp_path: Path, pack: object) -> None:
    data = TEXT.encode()
    blob = pack(data)  # type: ignore[operator]
    assert curated(tmp_path, blob, max_bytes=len(data))[0].rows == 9
    with pytest.raises(ReportTooLarge, match=f"more than {len(data) - 1} bytes") as raised:
        curated(tmp_path, blob, max_bytes=len(data) - 1)
    assert isinstance(raised.value, ReportFormatError) and raised.value.limit == len(data) - 1


def _bomb(path: Path, kind: str, chunk: bytes, size: int) -> Path:
    """A small file that decompresses to `size` bytes: the CSV header, then `chunk` over and over."""
    header = csv_bytes(SEED_HEADER, [])
    with open(path, "wb") as handle:
        if kind == "zip":
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("r.csv", "w", force_zip64=True) as out:
                _fill(out, header, chunk, size)
        else:
            with gzip.GzipFile(fileobj=handle, mode="wb", compresslevel=9, mtime=0) as out:
                _fill(out, header, chunk, size)
    return path


def _fill(out: IO[bytes] | io.BufferedIOBase, header: bytes, chunk: bytes, size: int) -> None:
    block = chunk * (1024 * 1024 // len(chunk))
    out.write(header)
    for _ in range(size // len(block)):
        out.write(block)


MB = 1024 * 1024
ROW = b'"Amazon.com","US","I","T","2024-03-01 10:00:00 UTC","Charge","s","t","i","App","","1","","USD","1.99","1.39"\r\n'


@pytest.mark.parametrize("kind", ["gzip", "zip"])
@pytest.mark.parametrize(("chunk", "cap"), [(b"\x00", 10 * MB), (ROW, 2 * MB)], ids=["one-endless-field", "endless-rows"])
def test_a_decompression_bomb_is_stopped_at_the_cap(tmp_path: Path, kind: str, chunk: bytes, cap: int) -> None:
    source = _bomb(tmp_path / "bomb", kind, chunk, 200 * MB)
    assert source.stat().st_size < 1 * MB  # 200 MB of data in a small file
    tracemalloc.start()
    try:
        with open(tmp_path / "curated.csv.gz", "wb") as target, pytest.raises(ReportTooLarge):
            curate(source, target, max_bytes=cap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * cap + 4 * MB  # bounded by the cap (one field holds it all at worst), not by the 200 MB
