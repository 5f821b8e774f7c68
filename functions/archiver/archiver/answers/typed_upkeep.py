"""End of a run: bring a schema-free type's column summary up to date from its curated objects, then its typed views."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger

from archiver.answers.typed_columns import combine, from_json, summarise, to_json
from archiver.answers.typed_views import ensure_view, views
from archiver.answers.value_types import RULES
from archiver.storage.store import ArchiveStore

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

READS_PER_RUN = 400  # curated objects summarised per run at most (an upgraded archive catches up over a few runs)
logger = Logger(child=True)


class TypedViewsError(RuntimeError):
    """The column summary or the typed views could not be brought up to date; the next run tries again."""


def _saved(store: ArchiveStore, key: str) -> dict[str, Any]:
    """The summary's periods: period -> {"etag", "sections"}; empty when missing or unreadable (it is rebuilt)."""
    if key not in store.keys(key):
        return {}
    try:
        periods = json.loads(store.s3.get_object(**store.args(Key=key))["Body"].read())["periods"]
        for entry in periods.values():
            from_json(entry["sections"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    return dict(periods)


def summaries(store: ArchiveStore, reads: int = READS_PER_RUN) -> tuple[dict[str, Any], bool]:
    """Every current curated object's summary (its ETag and the rules' version tell whether the saved one holds); whether any changed."""
    report, key = store.report, store.report.columns_key(store.prefix)
    saved = _saved(store, key)
    periods: dict[str, Any] = {}
    for item in sorted(store.listing(report.table_prefix(store.prefix)), key=lambda item: str(item["Key"])):
        period = report.period_in_key(str(item["Key"]))
        if period is None or item["Key"] != store.curated_key(period):
            continue
        entry = saved.get(str(period))
        if entry is not None and entry.get("etag") != item.get("ETag"):
            entry = None  # the curated object changed since: its saved summary no longer holds
        if entry is not None and entry.get("rules") == RULES:
            periods[str(period)] = entry
        elif reads > 0:  # else left for the next run; the views go on without the period meanwhile
            reads -= 1
            response = store.s3.get_object(**store.args(Key=item["Key"]))
            with response["Body"] as body:
                sections = to_json(summarise(cast("IO[bytes]", body)))
            periods[str(period)] = {"etag": response.get("ETag"), "rules": RULES, "sections": sections}
        elif entry is not None:  # summarised under older rules: kept until a run has the reads to redo it
            periods[str(period)] = entry
    return dict(sorted(periods.items())), periods != saved


def keep_typed_views(store: ArchiveStore, glue: GlueClient, database: str, base_table: str) -> list[str]:
    """Update the summary and the views of a schema-free type (a sales store: nothing); the views created or updated.

    The views are made current first; the summary is saved after, and only when it changed: a run in which nothing
    changed writes nothing, and one whose Glue calls failed is retried in full by the next run.
    """
    if store.report.curated != "jsonl":
        return []
    try:
        periods, changed = summaries(store)
        merged = combine(from_json(entry["sections"]) for entry in periods.values())
        table = store.report.table_name(base_table)
        outcomes = {view.name: ensure_view(glue, database, view) for view in views(store.report, database, table, merged)}
        made = [f"{name} {outcome}" for name, outcome in outcomes.items() if outcome != "unchanged"]
        if changed:
            body = json.dumps({"format": 1, "periods": periods}, ensure_ascii=False, indent=1).encode()
            store.s3.put_object(**store.args(Key=store.report.columns_key(store.prefix), Body=body, ContentType="application/json"))
    except Exception as exc:
        raise TypedViewsError(f"typed views not updated: {type(exc).__name__}: {exc}") from exc
    if made:
        logger.info(f"{store.report.name}: typed views {', '.join(made)}", extra={"report": store.report.name, "views": made})
    return made
