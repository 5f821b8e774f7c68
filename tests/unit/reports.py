"""Build small report files (CSV rows → ZIP or gzip bytes) for unit tests."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile

SEED_HEADER = [
    "Marketplace", "Country/Region Code", "Invoice ID", "Transaction ID", "Transaction Time", "Transaction Type",
    "Vendor SKU", "Title", "Item Name", "Item Type", "In-App Subscription Term", "Units", "Usage Time",
    "Marketplace Currency", "Sales Price (Marketplace Currency)", "Estimated Earnings (Marketplace Currency)",
]  # fmt: skip


def sample_rows(month: str, n: int = 3) -> list[list[str]]:
    """A few seed-format rows for a month, including awkward titles."""
    titles = ['Café, "Deluxe"', "Plain App", "Multi\nLine\r\nTitle"]
    return [
        ["Amazon.com", "US", f"INV-{month}-{i}", f"TX-{month}-{i}", f"{month}-0{i % 9 + 1} 10:00:00 UTC", "Charge",
         f"sku-{i}", titles[i % 3], "Item", "App", "", "1", "", "USD", "1.99", "1.39"]
        for i in range(n)
    ]  # fmt: skip


def csv_bytes(header: list[str], rows: list[list[str]], bom: bool = False, newline: str = "\r\n") -> bytes:
    """RFC 4180 CSV text as UTF-8 bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def zipped(data: bytes, name: str = "report.csv", extra: dict[str, bytes] | None = None) -> bytes:
    """A ZIP archive holding the CSV (and any extra members)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
        for member, content in (extra or {}).items():
            archive.writestr(member, content)
    return buffer.getvalue()


def gzipped(data: bytes, members: int = 1) -> bytes:
    """A gzip file of the CSV, split across `members` concatenated gzip members."""
    step = max(1, len(data) // members)
    parts = [data[i : i + step] for i in range(0, len(data), step)] if members > 1 else [data]
    return b"".join(gzip.compress(part, mtime=0) for part in parts)
