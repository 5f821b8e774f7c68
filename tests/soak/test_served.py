"""The emulator's served log names each version's report type and period, yearly files included (the soak's truth)."""

from __future__ import annotations

import hashlib

from infra.local.emulator.served import ServedLog


def test_a_yearly_file_is_recorded_with_its_type_and_year() -> None:
    log, body = ServedLog(), b"Summary\nMarketplace,Amount\nUS,1\n"
    for key in ("123/earnings_yearly/earnings_2026.zip", "123/earnings/earnings_2026_09.csv.gz", "123/sales/sales_2026_09.zip"):
        list(log.watch(key, iter([body]), len(body)))
    got = [(v.report, v.month, v.name) for v in log.versions()]
    assert got == [
        ("earnings_yearly", "2026", "earnings_2026.zip"),
        ("earnings", "2026-09", "earnings_2026_09.csv.gz"),
        ("sales", "2026-09", "sales_2026_09.zip"),
    ]
    assert {v.sha256 for v in log.versions()} == {hashlib.sha256(body).hexdigest()}
