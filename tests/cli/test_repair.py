"""`verify --repair` repairs exactly the broken (type, period) pairs, through guarded paths, and ends with a second audit."""

from __future__ import annotations

import hashlib
import json
import urllib.parse

import pytest

from archiver.core.months import Month
from tests.cli.conftest import invoke
from tests.cli.healthy import Healthy

JAN, FEB = Month(2024, 1), Month(2024, 2)


def _current(a: Healthy, *prefixes: str) -> list[tuple[str, str]]:
    """The current objects' (key, version id) under the prefixes."""
    pages = [a.s3.list_object_versions(Bucket=a.bucket, Prefix=prefix) for prefix in prefixes]
    return sorted((v["Key"], v["VersionId"]) for page in pages for v in page.get("Versions", []) if v["IsLatest"])


def _rows(a: Healthy, key: str) -> str:
    return str(a.s3.head_object(Bucket=a.bucket, Key=key)["Metadata"]["rows"])


def test_only_the_broken_pairs_are_touched(local, healthy: Healthy) -> None:
    _, state = local
    healthy.replace(healthy.store.curated_key(FEB), rows="99")
    healthy.replace(healthy.store_of("earnings").curated_key(JAN), rows="99")
    sales_jan = (healthy.store.raw_prefix(JAN), healthy.store.curated_prefix(JAN))
    before = _current(healthy, *sales_jan)
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 0, result.output
    assert _current(healthy, *sales_jan) == before  # a healthy month of another broken type is not rewritten
    earnings_feb = healthy.s3.list_objects_v2(Bucket=healthy.bucket, Prefix=healthy.store_of("earnings").raw_prefix(FEB))
    assert earnings_feb["KeyCount"] == 0  # nor fetched
    assert "sales 2024-01" not in result.stdout and "earnings 2024-02" not in result.stdout


def test_a_header_only_file_never_replaces_a_month_with_rows(local, healthy: Healthy) -> None:
    stack, state = local
    healthy.replace(healthy.raw_key(FEB), body=b"other bytes")  # the raw object cannot be trusted: Amazon's bytes are needed
    stack.emulator.set_month(2024, 2, header_only=True)
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 1, result.output
    assert "EmptyReportRefused" in result.stdout
    assert _rows(healthy, healthy.store.curated_key(FEB)) == "3"


def test_a_curated_copy_not_made_from_the_raw_object_is_repaired_from_it_without_amazon(local, healthy: Healthy) -> None:
    stack, state = local
    key = healthy.store.curated_key(FEB)
    healthy.replace(key, **{"source-sha256": hashlib.sha256(b"an older report").hexdigest()})
    stack.emulator.set_month(2024, 2, empty=True)  # Amazon no longer serves the month
    asked = stack.emulator.stats()
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 0, result.output
    assert stack.emulator.stats() == asked  # no token, no report link, no download
    raw_sha = healthy.s3.head_object(Bucket=healthy.bucket, Key=healthy.raw_key(FEB))["Metadata"]["sha256"]
    assert healthy.s3.head_object(Bucket=healthy.bucket, Key=key)["Metadata"]["source-sha256"] == raw_sha
    assert invoke("verify", "--state-file", str(state)).exit_code == 0


def test_not_found_is_not_a_repair_and_the_second_audit_decides(local, healthy: Healthy) -> None:
    stack, state = local
    second = healthy.store.raw_prefix(FEB) + "renamed.zip"  # two raw objects: only Amazon's bytes can repair the month
    healthy.s3.put_object(Bucket=healthy.bucket, Key=second, Body=b"x", Metadata={"sha256": hashlib.sha256(b"x").hexdigest()})
    stack.emulator.set_month(2024, 2, empty=True)
    result = invoke("verify", "--state-file", str(state), "--repair", "--json")
    assert "2024-02  not_found" in result.stderr
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert [(p["check"], p["month"]) for p in document["problems"]] == [("raw", "2024-02")]  # the second audit's
    assert document["before"]["problems"] == document["problems"]


@pytest.mark.parametrize("prefix", [""])
def test_with_an_empty_prefix_only_the_archives_own_folders_are_judged(local, healthy: Healthy) -> None:
    _, state = local
    foreign = ["notes.txt", "salesforce/export.csv", "other-app/raw.csv", "rawdata/x"]  # another writer's data in the bucket
    for key in foreign:
        healthy.s3.put_object(Bucket=healthy.bucket, Key=key, Body=b"not ours")
    healthy.s3.create_multipart_upload(Bucket=healthy.bucket, Key="other-app/big.bin")
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stdout
    stray = "sales/year=2024/month=02/copy of sales.csv"  # in a partition's location: Athena reads it
    healthy.s3.put_object(Bucket=healthy.bucket, Key=stray, Body=b"x")
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 1, result.output
    assert [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")][:1] == ["stray"]
    local = "./" + urllib.parse.quote(stray, safe="")
    assert (
        f"s3 cp 's3://{healthy.bucket}/{stray}' {local}" in result.stdout
        or f"s3 cp 's3://{healthy.bucket}/{stray}' '{local}'" in result.stdout
    )
    assert " rm " not in result.stdout and " mv " not in result.stdout
    assert " rm " not in result.stdout and "delete-object" not in result.stdout
