"""Fill the schema-free report tables of a local stack from the emulator's files (until the pipeline archives them)."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from archiver.answers.typed_upkeep import keep_typed_views
from archiver.core.months import Month
from archiver.core.periods import Period
from archiver.core.report_types import BY_NAME
from archiver.formats.sections import curate_sections
from archiver.storage.store import ArchiveStore
from infra.local.stack import BUCKET, DATABASE, TABLE, LocalStack


def archive_json(stack: LocalStack, report: str, period: Period, scratch: Path) -> int:
    """Download one period's file, write its curated JSON Lines at the type's key, register its partition; the rows."""
    kind, prefix = BY_NAME[report], stack.env["ARCHIVE_PREFIX"]
    headers = {"Authorization": f"Bearer {stack.emulator.issue_token()}"}
    for _ in range(10):  # the emulator allows 3 link requests a second
        link = requests.get(f"{stack.emulator.report_url}/{kind.link_path(period)}", headers=headers, timeout=10)
        if link.status_code != 429:
            break
        time.sleep(0.5)
    link.raise_for_status()
    source, target = scratch / f"{report}.raw", scratch / f"{report}.json.gz"
    source.write_bytes(requests.get(link.text, timeout=10).content)
    with open(target, "wb") as handle:
        facts = curate_sections(source, handle)
    stack.clients.s3.upload_file(str(target), BUCKET, kind.curated_key(prefix, period))
    table = stack.clients.glue.get_table(DatabaseName=DATABASE, Name=kind.table_name(TABLE))["Table"]
    descriptor = {**table["StorageDescriptor"], "Location": kind.location(BUCKET, prefix, period)}
    partition = {"Values": list(kind.partition_values(period)), "StorageDescriptor": descriptor}
    stack.clients.glue.create_partition(DatabaseName=DATABASE, TableName=kind.table_name(TABLE), PartitionInput=partition)
    return facts.rows


def archive_every_json_type(stack: LocalStack, month: Month, scratch: Path) -> dict[str, int]:
    """One period of each schema-free type: the month's earnings and subscription, the previous year's earnings."""
    periods: dict[str, Period] = {"earnings": month.shift(-1), "earnings_yearly": BY_NAME["earnings_yearly"].period_of(month.shift(-12))}
    periods["subscription"] = month
    rows = {report: archive_json(stack, report, period, scratch) for report, period in periods.items()}
    for report in periods:  # as the end of a run does: the typed views take in what was archived
        store = ArchiveStore(stack.clients.s3, BUCKET, stack.env["ARCHIVE_PREFIX"], BY_NAME[report])
        keep_typed_views(store, stack.clients.glue, DATABASE, TABLE)
    return rows
