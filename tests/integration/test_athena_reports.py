"""The local Athena stand-in over the schema-free report tables: map access by served header name, sections, partitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.core.months import Month
from infra.local.athena import LocalAthena
from infra.local.stack import DATABASE, TABLE, LocalStack
from tests.integration.jsontables import archive_every_json_type

pytestmark = pytest.mark.integration


def test_json_tables_read_by_header_name(stack: LocalStack, tmp_path: Path) -> None:
    month = Month(2024, 6)
    rows = archive_every_json_type(stack, month, tmp_path)
    assert rows == {"earnings": 3, "earnings_yearly": 2 + 3 + 36, "subscription": 60}
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as athena:
        result = athena.query(
            "SELECT year, month, fields['Marketplace'], fields['Payment Amount'], element_at(fields, 'No Such Column') "
            f"FROM {TABLE}_earnings ORDER BY line"
        )
        assert result.rows[0] == ("2024", "05", "Amazon.com", result.rows[0][3], None)
        assert "," in result.rows[0][3] or result.rows[0][3].replace(".", "").isdigit()
        sections = athena.query(f"SELECT section, count(*), min(line) FROM {TABLE}_earnings_yearly GROUP BY 1 ORDER BY 3")
        assert sections.rows == [("Notes", 2, 6), ("Summary", 3, 11), ("Detail", 36, 17)]
        refunds = athena.query(f"SELECT fields['Refunds'] FROM {TABLE}_earnings_yearly WHERE section = 'Summary' ORDER BY line")
        assert all(value.startswith("(") and value.endswith(")") for (value,) in refunds.rows), "negatives kept as served"
        partitions = athena.query(f"SELECT DISTINCT year FROM {TABLE}_earnings_yearly")
        assert partitions.rows == [("2023",)]
        cells = athena.query(
            "SELECT cardinality(cells), element_at(cells, 1), cells[2], element_at(fields, 'Marketplace') "
            f"FROM {TABLE}_earnings ORDER BY line"
        )
        assert cells.rows[0][0] >= 2 and cells.rows[0][1] == cells.rows[0][3] == "Amazon.com" and cells.rows[0][2] is not None
        subscription = athena.query(f"SELECT count(*), sum(CAST(fields['Started'] AS integer)) FROM {TABLE}_subscription")
        assert subscription.rows[0][0] == 60
        named = athena.run_named("Columns seen per report type and section")
        assert {(row[0], row[1]) for row in named.rows} == {
            ("earnings", None),
            ("earnings_yearly", "Notes"),
            ("earnings_yearly", "Summary"),
            ("earnings_yearly", "Detail"),
            ("subscription", None),
        }


def test_each_table_is_loaded_when_a_query_first_names_it(stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive_every_json_type(stack, Month(2024, 6), tmp_path)
    downloads: list[str] = []
    real = stack.clients.s3.download_file
    monkeypatch.setattr(stack.clients.s3, "download_file", lambda bucket, key, path: downloads.append(key) or real(bucket, key, path))
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as athena:
        athena.defer_views()
        assert athena.query("SELECT 1").rows == [(1,)] and downloads == []
        assert athena.query(f"SHOW PARTITIONS {TABLE}_earnings_yearly").rows == [("year=2023",)]
        assert downloads == ["appstore/earnings_yearly/year=2023/earnings_yearly_2023.json.gz"]
        assert athena.query(f'SELECT count(*) FROM "{DATABASE}"."{TABLE}_subscription"').rows == [(60,)]
        assert downloads[1:] == ["appstore/subscription/year=2024/month=06/subscription_2024_06.json.gz"]
        assert athena.query(f"SHOW PARTITIONS {TABLE}_subscription").rows == [("year=2024/month=06",)]
        athena.refresh()  # the sales table (no partitions yet) and the two loaded tables: nothing new to download
        assert len(downloads) == 2 and athena.files == 0
        assert athena.query(f"SELECT count(*) FROM {TABLE}_earnings").rows == [(3,)] and len(downloads) == 3
