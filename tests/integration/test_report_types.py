"""Every report type through the real handler and the local stack: archive, rerun, restatement, unsupported, quarantine, query."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from archiver.core.months import Month
from archiver.core.periods import Period, Year
from archiver.core.report_types import BY_NAME, REPORT_TYPES, ReportType
from archiver.core.results import RunFailedError
from archiver.formats.sections import FORMAT_FINGERPRINT
from archiver.storage import lease
from infra.local.athena import LocalAthena
from infra.local.emulator.others import other_key
from infra.local.stack import BUCKET, DATABASE, PREFIX, TABLE, LocalStack

pytestmark = pytest.mark.integration

THIS = Month.of(datetime.now(UTC))
MONTH = THIS.shift(-3)  # old enough for a monthly earnings file (final about 30 days after the month)
EARNINGS, YEARLY, SUBSCRIPTION = BY_NAME["earnings"], BY_NAME["earnings_yearly"], BY_NAME["subscription"]


def period(report: ReportType) -> Period:
    """The period of MONTH for a type (its year for the yearly type)."""
    return report.period_of(MONTH)


def by_report(result: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Report type -> (period, status) of a run whose results hold one period per type."""
    found = {r["report"]: (r["month"], r["status"]) for r in result["results"]}
    assert len(found) == len(result["results"]), result["results"]
    return found


def body(stack: LocalStack, key: str) -> bytes:
    """An archive object's bytes."""
    return stack.clients.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def versions(stack: LocalStack) -> list[tuple[str, str]]:
    """Every (key, version) under the prefix but the lease's (every run takes it)."""
    listing = stack.clients.s3.list_object_versions(Bucket=BUCKET, Prefix=PREFIX).get("Versions", [])
    return sorted((v["Key"], v["VersionId"]) for v in listing if v["Key"] != PREFIX + lease.KEY)


def served(stack: LocalStack, report: ReportType) -> str:
    """The emulator's key of MONTH's file of a schema-free type (generated on first use)."""
    month = None if report.period == "year" else MONTH.month
    key = other_key(stack.emulator, report.name, MONTH.year, month)
    assert key is not None
    return key


def served_bytes(stack: LocalStack, report: ReportType) -> bytes:
    """The bytes the emulator serves for MONTH's file of a schema-free type."""
    return stack.clients.s3.get_object(Bucket=stack.emulator.bucket, Key=served(stack, report))["Body"].read()


def link_requests(stack: LocalStack) -> int:
    """Report-link requests the emulator has answered so far (a 429 is retried: not counted)."""
    return sum(n for status, n in stack.emulator.stats().get("report", {}).items() if str(status) != "429")


def serve(stack: LocalStack, report: ReportType, data: bytes) -> None:
    """Make the emulator serve other bytes for MONTH's file of a type (Amazon restating it)."""
    stack.clients.s3.put_object(Bucket=stack.emulator.bucket, Key=served(stack, report), Body=data)


def partitions(stack: LocalStack, report: ReportType) -> dict[tuple[str, ...], str]:
    """The registered partitions of a type's table."""
    found = stack.clients.glue.get_partitions(DatabaseName=DATABASE, TableName=report.table_name(TABLE))["Partitions"]
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in found}


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF records printed on stdout."""
    return [doc for line in out.splitlines() if line.startswith("{") and "_aws" in (doc := json.loads(line))]


def test_every_type_archived_byte_exact_then_unchanged(every_report_stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = every_report_stack
    first = stack.invoke({"months": [str(MONTH)]})
    assert by_report(first) == {r.name: (str(period(r)), "archived") for r in REPORT_TYPES}
    for result in first["results"]:
        report = BY_NAME[result["report"]]
        raw = body(stack, result["raw_key"])
        assert result["raw_key"].startswith(report.raw_prefix(PREFIX, period(report)))
        assert result["curated_key"] == report.curated_key(PREFIX, period(report))
        assert hashlib.sha256(raw).hexdigest() == result["sha256"]
        if report.curated == "jsonl":
            assert raw == served_bytes(stack, report)  # byte-exact copy of what was served
            curated = stack.clients.s3.head_object(Bucket=BUCKET, Key=result["curated_key"])["Metadata"]
            assert curated["columns"] == FORMAT_FINGERPRINT and curated["source-sha256"] == result["sha256"]
            lines = gzip.decompress(body(stack, result["curated_key"])).decode().splitlines()
            assert len(lines) == int(curated["rows"]) == result["rows"] > 0
            assert set(json.loads(lines[0])) == {"section", "line", "fields", "cells"}
            assert curated["guesses"] == str(result["guesses"]) == "0"
        assert partitions(stack, report) == {report.partition_values(period(report)): report.location(BUCKET, PREFIX, period(report))}
    assert partitions(stack, YEARLY) == {(str(MONTH.year),): f"s3://{BUCKET}/{PREFIX}earnings_yearly/year={MONTH.year}/"}
    records = emf(capsys.readouterr().out)
    per_month = [r for r in records if "report" in r]
    assert sorted(r["report"] for r in per_month) == sorted(r.name for r in REPORT_TYPES)
    for record in per_month:  # the alarms' dimension set, and the same data per report type
        assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "report"]]
        assert record["MonthsArchived"] == [1.0]
    run_level = [r for r in records if "report" not in r]
    assert run_level and all(r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]] for r in run_level)
    before = versions(stack)
    again = stack.invoke({"months": [str(MONTH)]})
    assert {name: status for name, (_, status) in by_report(again).items()} == dict.fromkeys(BY_NAME, "unchanged")
    assert versions(stack) == before


def test_a_restated_earnings_file_is_archived_again_and_the_others_are_not(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    (raw_key,) = [r["raw_key"] for r in stack.invoke({"months": [str(MONTH)]})["results"] if r["report"] == "earnings"]
    text = gzip.decompress(served_bytes(stack, EARNINGS)).decode()
    serve(stack, EARNINGS, gzip.compress((text + "Amazon.fr,x,y,1.00,EUR,0.00,0.00,1,0.00,1.00,USD,Issued,1/1/2030\n").encode(), mtime=0))
    before = versions(stack)
    result = by_report(stack.invoke({"months": [str(MONTH)]}))
    assert result["earnings"] == (str(MONTH), "archived")
    assert {name for name, (_, status) in result.items() if status == "unchanged"} == {"sales", "earnings_yearly", "subscription"}
    changed = {key for key, _ in set(versions(stack)) - set(before)}
    expected = {EARNINGS.curated_key(PREFIX, MONTH), raw_key, EARNINGS.columns_key(PREFIX)}  # the typed views' summary too
    assert changed == expected | {f"{PREFIX}periods/earnings.json.gz"}  # and its periods row
    rows = gzip.decompress(body(stack, EARNINGS.curated_key(PREFIX, MONTH))).decode().splitlines()
    assert json.loads(rows[-1])["fields"]["Marketplace"] == "Amazon.fr"


def test_a_month_curated_and_registered_before_cells_gains_them_on_the_next_run(every_report_stack: LocalStack) -> None:
    """The curated format (fingerprint) and the partition's SerDe and columns as they were with OpenX and no `cells`."""
    stack = every_report_stack
    stack.invoke({"months": [str(MONTH)]})
    key, table = EARNINGS.curated_key(PREFIX, MONTH), EARNINGS.table_name(TABLE)
    older = hashlib.sha256(b"section,line,fields;jsonl;v1").hexdigest()[:16]
    head = stack.clients.s3.head_object(Bucket=BUCKET, Key=key)
    stack.clients.s3.copy_object(
        Bucket=BUCKET,
        Key=key,
        CopySource={"Bucket": BUCKET, "Key": key},
        Metadata={**head["Metadata"], "columns": older},
        MetadataDirective="REPLACE",
    )
    values = list(EARNINGS.partition_values(MONTH))
    stored = stack.clients.glue.get_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=values)["Partition"]
    descriptor = {**stored["StorageDescriptor"], "Columns": stored["StorageDescriptor"]["Columns"][:3]}
    descriptor["SerdeInfo"] = {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {"case.insensitive": "false"}}
    update = {"Values": values, "StorageDescriptor": descriptor}
    stack.clients.glue.update_partition(DatabaseName=DATABASE, TableName=table, PartitionValueList=values, PartitionInput=update)
    assert by_report(stack.invoke({"months": [str(MONTH)]}))["earnings"] == (str(MONTH), "archived")  # re-curated
    assert stack.clients.s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]["columns"] == FORMAT_FINGERPRINT
    assert all("cells" in json.loads(line) for line in gzip.decompress(body(stack, key)).decode().splitlines())
    now = stack.clients.glue.get_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=values)["Partition"]["StorageDescriptor"]
    wanted = stack.clients.glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["StorageDescriptor"]
    assert (now["SerdeInfo"], now["Columns"]) == (wanted["SerdeInfo"], wanted["Columns"])
    assert now["SerdeInfo"]["SerializationLibrary"] == "org.apache.hive.hcatalog.data.JsonSerDe"
    assert by_report(stack.invoke({"months": [str(MONTH)]}))["earnings"] == (str(MONTH), "unchanged")


def test_a_file_read_with_guesses_reports_them_once(
    every_report_stack: LocalStack, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stack = every_report_stack
    text = "Report Period,1/1/2024 - 1/31/2024\nMarketplace,Units,Earnings\nAmazon.com,5,1.00\n\nAmazon.de,3,(4.18)\n"
    serve(stack, EARNINGS, gzip.compress(text.encode(), mtime=0))
    (result,) = [r for r in stack.invoke({"months": [str(MONTH)]})["results"] if r["report"] == "earnings"]
    assert (result["status"], result["rows"], result["guesses"], len(result["guess_notes"])) == ("archived", 2, 2, 2)
    assert result["guess_notes"][0].startswith("line 1: two-field line") and result["guess_notes"][1].startswith("line 5: blank record")
    assert stack.clients.s3.head_object(Bucket=BUCKET, Key=result["curated_key"])["Metadata"]["guesses"] == "2"
    per_month = [r for r in emf(capsys.readouterr().out) if r.get("report") == "earnings"]
    assert [r.get("HeuristicGuesses") for r in per_month] == [[2.0]]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"earnings {MONTH}")]
    assert logged == [f"earnings {MONTH}: archived with 2 heuristic guess(es)"]


def test_a_type_the_api_does_not_know_is_unsupported_asked_once_and_not_a_failure(
    every_report_stack: LocalStack, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    stack = every_report_stack
    stack.env["START_MONTH"] = str(THIS.shift(-3))
    stack.emulator.set_report_answer("subscription", "unsupported")
    seen = link_requests(stack)
    result = stack.invoke()  # the default plan: no exception, the run succeeds
    mine = [r for r in result["results"] if r["report"] == "subscription"]
    assert [r["status"] for r in mine] == ["unsupported"] and "does not know report type 'subscription'" in mine[0]["error"]
    assert link_requests(stack) - seen == len(result["results"])  # one request for the whole type
    assert stack.clients.s3.head_object(Bucket=BUCKET, Key=SUBSCRIPTION.unsupported_key(PREFIX))
    assert not [k for k, _ in versions(stack) if "/subscription/" in k and "/state/" not in k]
    out = capsys.readouterr().out
    assert sum(r.get("ReportsUnsupported", [0])[0] for r in emf(out) if r.get("report") == "subscription") == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.getMessage().startswith("subscription ")]
    assert len(warnings) == 1 and ": unsupported;" in warnings[0]  # once per run
    assert any("RunSucceeded" in r for r in emf(out))
    stack.emulator.set_report_answer("subscription", "file")  # served again, but the type is asked again only after a week
    seen = link_requests(stack)
    second = stack.invoke()["results"]
    again = [r for r in second if r["report"] == "subscription"]
    assert [r["status"] for r in again] == ["unsupported"] and "asked again after" in again[0]["error"]
    assert link_requests(stack) - seen == len(second) - 1  # nothing asked for subscription
    stack.clients.s3.delete_object(Bucket=BUCKET, Key=SUBSCRIPTION.unsupported_key(PREFIX))  # as if a week had passed
    third = [r for r in stack.invoke()["results"] if r["report"] == "subscription"]
    assert {r["status"] for r in third} == {"archived"}
    assert not stack.clients.s3.list_objects_v2(Bucket=BUCKET, Prefix=SUBSCRIPTION.unsupported_key(PREFIX)).get("Contents")


def test_an_unreadable_earnings_file_is_quarantined_and_the_month_keeps_its_archive(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    stack.invoke({"months": [str(MONTH)]})
    before = versions(stack)
    garbage = gzip.compress("Marketplace,Payment Amount\nAmazon.fr,1\u00a0234\n".encode("latin-1"), mtime=0)  # not UTF-8
    serve(stack, EARNINGS, garbage)
    with pytest.raises(RunFailedError, match=r"earnings \d{4}-\d{2}: ReportFormatError") as caught:
        stack.invoke({"months": [str(MONTH)]})
    sha = hashlib.sha256(garbage).hexdigest()
    name = served(stack, EARNINGS).rsplit("/", 1)[-1]
    kept = f"{PREFIX}quarantine/earnings/year={MONTH.year}/month={MONTH.mm}/{sha}-{name}"
    assert kept in str(caught.value) and body(stack, kept) == garbage
    kept_out = ("/quarantine/", "/periods/")  # the periods table records the quarantine
    assert [v for v in versions(stack) if not any(k in v[0] for k in kept_out)] == [v for v in before if "/periods/" not in v[0]]


def test_a_missing_yearly_partition_is_registered_again(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    stack.invoke({"months": [str(MONTH)]})
    stack.clients.glue.delete_partition(DatabaseName=DATABASE, TableName=YEARLY.table_name(TABLE), PartitionValues=[str(MONTH.year)])
    assert partitions(stack, YEARLY) == {}
    stack.invoke({"months": [str(THIS)]})  # MONTH's year is not fetched when it differs: the run-start repair registers it
    assert partitions(stack, YEARLY)[(str(MONTH.year),)] == YEARLY.location(BUCKET, PREFIX, Year(MONTH.year))


def test_a_type_whose_table_is_missing_fails_alone(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    stack.clients.glue.delete_table(DatabaseName=DATABASE, Name=EARNINGS.table_name(TABLE))
    with pytest.raises(RunFailedError, match=rf"earnings: CatalogError: Glue table {DATABASE}\.{TABLE}_earnings does not exist"):
        stack.invoke({"months": [str(MONTH)]})
    done = {key.split("/")[2] for key, _ in versions(stack) if key.startswith(f"{PREFIX}raw/")}
    assert done == {"sales", "earnings_yearly", "subscription"}


def test_each_type_is_queried_in_the_local_athena(every_report_stack: LocalStack) -> None:
    stack = every_report_stack
    stack.invoke({"months": [str(MONTH)]})
    with LocalAthena(stack.clients.glue, stack.clients.s3, DATABASE, TABLE) as athena:
        assert athena.query(f"SELECT count(*) FROM {TABLE} WHERE year = '{MONTH.year}'").rows[0][0] > 0
        earnings = athena.query(f"SELECT month, element_at(fields, 'Marketplace') FROM {TABLE}_earnings ORDER BY line").rows
        assert earnings[0] == (MONTH.mm, "Amazon.com")
        yearly = athena.query(f"SELECT year, section, count(*) FROM {TABLE}_earnings_yearly GROUP BY 1, 2 ORDER BY min(line)").rows
        assert [(y, s) for y, s, _ in yearly] == [(str(MONTH.year), "Notes"), (str(MONTH.year), "Summary"), (str(MONTH.year), "Detail")]
        started = athena.query(f"SELECT count(*), sum(CAST(element_at(fields, 'Started') AS integer)) FROM {TABLE}_subscription").rows
        assert started[0][0] > 0 and started[0][1] >= 0
