"""`verify` of the JSON Lines report types (earnings, earnings_yearly, subscription): each damage is one line naming the type."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from archiver.core.months import Month
from archiver.core.periods import Period, Year
from archiver.formats.sales_csv import COLUMNS_FINGERPRINT
from tests.cli.conftest import as_json, invoke
from tests.cli.healthy import Healthy
from tests.cli.test_verify import _sha, verify

EARNINGS, YEARLY, SUBSCRIPTION = Month(2024, 1), Year(2023), Month(2024, 2)


def _rewrite_curated(a: Healthy, report: str, period: Period, edit: Callable[[bytes], bytes]) -> None:
    """Change a JSON Lines type's curated text, keeping its sha256 metadata true (so only the damage is found)."""
    key = a.store_of(report).curated_key(period)
    text = gzip.decompress(a.s3.get_object(Bucket=a.bucket, Key=key)["Body"].read())
    body = gzip.compress(edit(text))
    a.replace(key, body=body, sha256=_sha(body))


def json_line_broken(a: Healthy) -> None:
    _rewrite_curated(a, "earnings", EARNINGS, lambda text: text + b'{"section": null, "line": 9, "fields": {"a": "b"\n')


def json_keys_differ(a: Healthy) -> None:
    _rewrite_curated(a, "earnings", EARNINGS, lambda text: text.replace(b'"fields":', b'"values":', 1))


def json_value_type_wrong(a: Healthy) -> None:
    _rewrite_curated(a, "subscription", SUBSCRIPTION, lambda text: text.replace(b'"line":2,', b'"line":"2",', 1))


def json_rows_differ(a: Healthy) -> None:
    a.replace(a.store_of("subscription").curated_key(SUBSCRIPTION), rows="9")


def json_wrong_fingerprint(a: Healthy) -> None:
    a.replace(a.store_of("earnings_yearly").curated_key(YEARLY), columns=COLUMNS_FINGERPRINT)  # the sales format's


def yearly_partition_missing(a: Healthy) -> None:
    a.glue.delete_partition(DatabaseName=a.database, TableName=a.table_of("earnings_yearly"), PartitionValues=["2023"])


def yearly_raw_changed(a: Healthy) -> None:
    a.replace(a.raw_key(YEARLY, "earnings_yearly"), body=b"other bytes")


def yearly_pending(a: Healthy) -> None:
    a.marker("pending", YEARLY, "earnings_yearly")


def json_table_serde_changed(a: Healthy) -> None:
    table = a.glue.get_table(DatabaseName=a.database, Name=a.table_of("earnings"))["Table"]
    table["StorageDescriptor"]["SerdeInfo"] = {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde"}
    keep = ("Name", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
    a.glue.update_table(DatabaseName=a.database, TableInput={k: table[k] for k in keep if k in table})


def json_table_openx(a: Healthy) -> None:
    table = a.glue.get_table(DatabaseName=a.database, Name=a.table_of("subscription"))["Table"]
    table["StorageDescriptor"]["SerdeInfo"] = {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {}}
    keep = ("Name", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
    a.glue.update_table(DatabaseName=a.database, TableInput={k: table[k] for k in keep if k in table})


def yearly_table_missing(a: Healthy) -> None:
    a.glue.delete_table(DatabaseName=a.database, Name=a.table_of("earnings_yearly"))


def stray_in_json_layout(a: Healthy) -> None:
    a.s3.put_object(Bucket=a.bucket, Key=f"{a.prefix}earnings_yearly/year=2023/earnings_yearly_2023 (1).json.gz", Body=b"x")


OTHER_DAMAGE: list[tuple[Callable[[Healthy], None], str, str | None, str | None, str]] = [
    (json_line_broken, "curated", "earnings", "2024-01", "line 3 is not JSON"),
    (json_keys_differ, "curated", "earnings", "2024-01", "has the keys"),
    (json_value_type_wrong, "curated", "subscription", "2024-02", "line is a JSON str, the column is bigint"),
    (json_rows_differ, "curated", "subscription", "2024-02", "has 2 rows, its metadata says 9"),
    (json_wrong_fingerprint, "curated", "earnings_yearly", "2023", "older format"),
    (yearly_partition_missing, "partition", "earnings_yearly", "2023", "no Glue partition (table sales_earnings_yearly)"),
    (yearly_raw_changed, "raw+source", "earnings_yearly", "2023", "differs from its metadata"),
    (yearly_pending, "pending", "earnings_yearly", "2023", "did not finish"),
    (json_table_serde_changed, "table", "earnings", None, "not a JSON SerDe"),
    (json_table_openx, "table", "subscription", None, "not Hive's org.apache.hive.hcatalog.data.JsonSerDe"),
    (yearly_table_missing, "table", "earnings_yearly", None, "does not exist"),
    (stray_in_json_layout, "stray", None, None, "outside the archive's layout"),
]


@pytest.mark.parametrize(("damage", "check", "report", "period", "words"), OTHER_DAMAGE, ids=[d[0].__name__ for d in OTHER_DAMAGE])
def test_each_damage_of_another_type_is_one_problem_naming_it(
    local, healthy: Healthy, damage, check: str, report: str | None, period: str | None, words: str
) -> None:
    _, state = local
    damage(healthy)
    code, found = verify(state)
    assert code == 1
    checks = check.split("+")
    assert [(p["check"], p["report"], p["month"]) for p in found["problems"]] == [(c, report, period) for c in checks], found["problems"]
    assert words in found["problems"][0]["message"]
    named = [x for x in (checks[0], report, period) if x]
    line = invoke("verify", "--state-file", str(state)).stdout.splitlines()[0]
    assert line.split()[: len(named)] == named


def test_heuristic_guesses_are_shown_by_verify_and_status_not_counted_as_problems(local, healthy: Healthy) -> None:
    _, state = local
    healthy.replace(healthy.store_of("earnings").curated_key(EARNINGS), guesses="3")
    code, found = verify(state)
    assert (code, found["problems"], found["guesses"]) == (0, [], {"earnings 2024-01": 3})
    text = invoke("verify", "--state-file", str(state)).stdout
    assert "heuristic guesses" in text and "earnings 2024-01 (3)" in text
    status = as_json(invoke("status", "--state-file", str(state), "--json"))
    figures = {m["month"]: m["guesses"] for m in status["reports"]["earnings"]["months"] if m["state"] == "archived"}
    assert figures == {"2024-01": 3}
