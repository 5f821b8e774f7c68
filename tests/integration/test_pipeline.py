"""The archiver end to end over real HTTP: moto server, the Appstore API emulator, the handler run as scheduled."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

import app
from archiver.answers import history_upkeep
from archiver.core.months import Month
from archiver.formats.sales_csv import CuratedDialect
from archiver.formats.schema import CANONICAL_COLUMNS
from archiver.storage import lease
from infra.local.stack import BUCKET, DATABASE, TABLE, LocalStack
from infra.template.load import load_template, resource

pytestmark = pytest.mark.integration

CURRENT = Month.of(datetime.now(UTC))
PREFIX = "appstore/"
MISSING = {"2018-01", "2018-02", "2018-07", "2019-12"}  # the emulator's months without a report


def raw_key(month: Month, extension: str = "zip") -> str:
    return f"{PREFIX}raw/sales/year={month.year}/month={month.mm}/sales_{month.year}_{month.mm}.{extension}"


def curated_key(month: Month) -> str:
    return f"{PREFIX}sales/year={month.year}/month={month.mm}/sales_{month.year}_{month.mm}.csv.gz"


def run(stack: LocalStack, start: Month | None = None) -> dict[str, dict[str, Any]]:
    """Invoke the handler as the schedule does; results by month, in the order returned."""
    if start is not None:
        stack.env["START_MONTH"] = str(start)
    results = stack.invoke()["results"]
    assert [r["report"] for r in results] == ["sales"] * len(results)
    return {r["month"]: r for r in results}


def statuses(results: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {month: r["status"] for month, r in results.items()}


def keys(stack: LocalStack) -> set[str]:
    pages = stack.clients.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def versions(stack: LocalStack) -> dict[str, list[str]]:
    """Every key's version ids, newest first (but the lease's: every run takes it)."""
    found: dict[str, list[str]] = {}
    for page in stack.clients.s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for version in page.get("Versions", []):
            if not version["Key"].endswith(lease.KEY):
                found.setdefault(version["Key"], []).append(version["VersionId"])
    return found


def fetch(stack: LocalStack, key: str) -> tuple[bytes, dict[str, str]]:
    obj = stack.clients.s3.get_object(Bucket=BUCKET, Key=key)
    return obj["Body"].read(), obj["Metadata"]


def curated_rows(stack: LocalStack, month: Month) -> list[list[str]]:
    body, _ = fetch(stack, curated_key(month))
    return list(csv.reader(io.StringIO(gzip.decompress(body).decode("utf-8"), newline=""), dialect=CuratedDialect))


def partitions(stack: LocalStack) -> dict[tuple[str, ...], str]:
    pages = stack.clients.glue.get_paginator("get_partitions").paginate(DatabaseName=DATABASE, TableName=TABLE)
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]}


def ok_requests(stack: LocalStack, endpoint: str, status: int = 200) -> int:
    return stack.emulator.stats().get(endpoint, {}).get(status, 0)


def emitted_metrics(output: str) -> dict[str, float]:
    """Sum the EMF metric values printed to stdout."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' in line:
            blob = json.loads(line)
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(value if isinstance(value, list) else [value])
    return totals


def test_a_run_without_event_gets_the_payload_of_the_templates_schedule(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    handler = app.lambda_handler

    def recording(event: Any, context: Any) -> Any:
        sent.append(event)
        return handler(event, context)

    monkeypatch.setattr(app, "lambda_handler", recording)
    assert statuses(run(stack, CURRENT)) == {str(CURRENT): "archived"}
    schedule = resource(load_template(), "ArchiverFunction")["Properties"]["Events"]["Daily"]["Properties"]
    assert sent == [json.loads(schedule["Input"])] == [{"source": "aws.scheduler"}]


def test_full_backfill_then_only_the_lookback_months(stack: LocalStack) -> None:
    assert stack.env["START_MONTH"] == "2018-01"  # the template's default: a full backfill
    results = run(stack)
    every = [str(m) for m in Month(2018, 1).through(CURRENT)]
    assert sorted(results) == every
    assert {m for m in every if not stack.emulator.has_report(int(m[:4]), int(m[5:]))} == MISSING
    assert statuses(results) == {m: "not_found" if m in MISSING else "archived" for m in every}
    archived = [Month.parse(m) for m in every if m not in MISSING]

    markers = {f"{PREFIX}state/sales/not_found/{m}.json" for m in MISSING}
    history = {key for key in keys(stack) if key.startswith(f"{PREFIX}history/")}  # the history copies: bounded per run
    assert len(history) == min(history_upkeep.COPIES_PER_RUN, len(archived))
    table = {f"{PREFIX}periods/sales.json.gz"}  # the periods table: one row per month
    assert keys(stack) - history == {raw_key(m) for m in archived} | {curated_key(m) for m in archived} | markers | table
    for month in archived:
        result = results[str(month)]
        assert (result["raw_key"], result["curated_key"]) == (raw_key(month), curated_key(month))
        raw, raw_meta = fetch(stack, raw_key(month))
        assert raw_meta["sha256"] == hashlib.sha256(raw).hexdigest() == result["sha256"]
        assert result["bytes"] == len(raw)
        curated, curated_meta = fetch(stack, curated_key(month))
        assert curated_meta["sha256"] == hashlib.sha256(curated).hexdigest()
        rows = list(csv.reader(io.StringIO(gzip.decompress(curated).decode("utf-8"), newline=""), dialect=CuratedDialect))
        assert rows[0] == list(CANONICAL_COLUMNS)
        expected = stack.emulator.expected_totals(month.year, month.month)
        assert expected is not None
        assert result["rows"] == len(rows) - 1 == expected.rows
    assert partitions(stack) == {(str(m.year), m.mm): f"s3://{BUCKET}/{PREFIX}sales/year={m.year}/month={m.mm}/" for m in archived}

    before, links = versions(stack), ok_requests(stack, "report")
    second = run(stack)
    lookback = [str(CURRENT.shift(-k)) for k in range(int(stack.env["LOOKBACK_MONTHS"]) + 1)]
    assert list(second) == lookback
    assert set(statuses(second).values()) == {"unchanged"}
    assert ok_requests(stack, "report") - links == len(lookback)
    after = versions(stack)
    copies = {key for key in after if key.startswith(f"{PREFIX}history/")} - set(before)  # the history backfill goes on
    assert len(copies) == min(history_upkeep.COPIES_PER_RUN, len(archived) - len(history))
    assert {k: v for k, v in after.items() if k not in copies} == before  # nothing else written, not even a state marker


def test_zip_and_gzip_give_byte_identical_curated_objects(stack: LocalStack) -> None:
    months = list(CURRENT.shift(-2).through(CURRENT))
    first = run(stack, months[0])
    assert set(statuses(first).values()) == {"archived"}
    zipped = {m: fetch(stack, curated_key(m)) for m in months}

    variants: list[dict[str, Any]] = [
        {"compression": "gzip"},
        {"compression": "gzip", "bom": True, "line_ending": "\n"},
        {"compression": "gzip", "multi_member": True},
    ]
    for month, options in zip(months, variants, strict=True):
        stack.emulator.set_month(month.year, month.month, **options)
    second = run(stack)
    assert set(statuses(second).values()) == {"archived"}  # new raw bytes, so archived again
    for month in months:
        body, metadata = fetch(stack, curated_key(month))
        assert body == zipped[month][0]
        assert metadata["sha256"] == zipped[month][1]["sha256"] == hashlib.sha256(body).hexdigest()
        assert second[str(month)]["sha256"] != first[str(month)]["sha256"]
        assert second[str(month)]["rows"] == first[str(month)]["rows"]
    raw = {k for k in keys(stack) if "/raw/" in k}
    assert raw == {raw_key(m, "gz") for m in months}  # the replaced ZIP copies are gone


def _served(variant: str, row: dict[str, str], column: str, present: set[str]) -> str:
    """What the curated file should hold for a generator row: absent columns empty, line breaks folded."""
    if column not in present:
        return ""
    value = row[column]
    if variant == "renamed" and column == "transaction_time":  # that variant's US date order
        date, rest = value.split(" ", 1)
        value = f"{date[5:7]}/{date[8:10]}/{date[:4]} {rest}"
    return re.sub(r"\r\n|\r|\n", " ", value)


def test_header_variants_map_to_the_canonical_columns(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    variants = {CURRENT.shift(-3): "reordered", CURRENT.shift(-2): "renamed", CURRENT.shift(-1): "extended", CURRENT: "drift"}
    for month, variant in variants.items():
        stack.emulator.set_month(month.year, month.month, variant=variant)
    capsys.readouterr()
    results = run(stack, CURRENT.shift(-3))
    metrics = emitted_metrics(capsys.readouterr().out)

    assert set(statuses(results).values()) == {"archived"}
    assert {m: r["unknown_columns"] for m, r in results.items()} == {
        str(m): (["Promotion ID"] if v == "drift" else []) for m, v in variants.items()
    }
    assert metrics["SchemaDrift"] == 1
    data = stack.emulator.data
    for month, variant in variants.items():
        present = {field for _, field in data.columns(variant, month.year, month.month) if field}
        options = stack.emulator.month_options(month.year, month.month)
        generated = list(data.rows(month.year, month.month, rows=options.rows, revision=options.revision))
        header, *rows = curated_rows(stack, month)
        assert header == list(CANONICAL_COLUMNS)
        assert len(rows) == len(generated)
        for row, source in zip(rows, generated, strict=True):
            for column, value in zip(CANONICAL_COLUMNS, row, strict=True):
                assert value == _served(variant, source, column, present), (variant, column, source["invoice_id"])


def test_restated_month_is_rearchived_and_untouched_months_are_not_rewritten(stack: LocalStack) -> None:
    start, previous = CURRENT.shift(-3), CURRENT.shift(-1)
    first = run(stack, start)
    assert set(statuses(first).values()) == {"archived"}
    before = versions(stack)

    assert stack.emulator.restate(previous.year, previous.month) == 1
    second = run(stack)
    assert statuses(second) == {str(CURRENT): "unchanged", str(previous): "archived", str(CURRENT.shift(-2)): "unchanged"}
    after = versions(stack)
    changed = {key for key in after if after[key] != before.get(key)}
    (history,) = {key for key in changed if key.startswith(f"{PREFIX}history/")}  # the new version's history copy, a new key
    assert history.startswith(f"{PREFIX}history/sales/year={previous.year}/month={previous.mm}/")
    changed.remove(history)
    assert changed == {raw_key(previous), curated_key(previous), f"{PREFIX}periods/sales.json.gz"}  # the table: its new figures
    for key in changed:
        assert after[key][1:] == before[key]  # exactly one new version on top of the old one
    expected = stack.emulator.expected_totals(previous.year, previous.month)
    assert expected is not None
    assert second[str(previous)]["rows"] == len(curated_rows(stack, previous)) - 1 == expected.rows == first[str(previous)]["rows"] + 1
    assert partitions(stack)[(str(previous.year), previous.mm)] == f"s3://{BUCKET}/{PREFIX}sales/year={previous.year}/month={previous.mm}/"


def test_tokens_are_reused_across_months_and_refreshed_after_expiry(stack: LocalStack) -> None:
    emulator = stack.emulator
    first = run(stack, CURRENT.shift(-2))
    assert set(statuses(first).values()) == {"archived"}
    assert ok_requests(stack, "token") == 1  # one token for three months
    assert ok_requests(stack, "report") == 3

    assert set(statuses(run(stack)).values()) == {"unchanged"}
    assert ok_requests(stack, "token") == 1  # the warm cache's token is still valid

    emulator.expire_tokens()
    rejected = ok_requests(stack, "report", emulator.expired_token_status)
    assert set(statuses(run(stack)).values()) == {"unchanged"}
    assert ok_requests(stack, "token") == 2  # exactly one new token after the expiry
    assert ok_requests(stack, "report", emulator.expired_token_status) == rejected + 1

    emulator.advance_clock(emulator.token_ttl + 1)
    assert set(statuses(run(stack)).values()) == {"unchanged"}
    assert ok_requests(stack, "token") == 3
