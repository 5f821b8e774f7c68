"""The canonical sales columns (the single definition) and header-name matching."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from archiver.core.errors import SchemaError as SchemaError  # raised here; defined beside ReportFormatError

# The seed's 16 sales fields in the seed's order, then the fields real files also carry.
# The Glue table in template.yaml lists exactly these, in this order (a test enforces it).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "marketplace",
    "country_region_code",
    "invoice_id",
    "transaction_id",
    "transaction_time",
    "transaction_type",
    "vendor_sku",
    "title",
    "item_name",
    "item_type",
    "in_app_subscription_term",
    "units",
    "usage_time",
    "marketplace_currency",
    "sales_price",
    "estimated_earnings",
    "asin",
    "in_app_subscription_status",
    "app_user_id",
    "receipt_id",
    "digital_order_id",
    "adjustment",
)

# Changes whenever the canonical columns or the curated format (convert.CuratedDialect) change, so older curated files
# get rewritten; defined here, not in convert, so a run whose months are unchanged never imports the converter.
COLUMNS_FINGERPRINT = hashlib.sha256(f"{','.join(CANONICAL_COLUMNS)};quote-all;backslash-escape".encode()).hexdigest()[:16]


PARTITION_KEYS: tuple[str, ...] = ("year", "month")

# Other normalised header names seen for a canonical column (renamed over time). The seed's own
# headers with parentheses are listed whole, so they outrank a variant such as `Sales Price (USD)`.
ALIASES: dict[str, str] = {
    "units_number_of_units_of_purchase": "units",
    "usage_time_for_underground_apps": "usage_time",
    "sales_price_marketplace_currency": "sales_price",
    "estimated_earnings_marketplace_currency": "estimated_earnings",
    "in_app_subscription_status_trial_paid": "in_app_subscription_status",
    "country_code": "country_region_code",
    "country_region": "country_region_code",
    "country": "country_region_code",
    "transaction_date": "transaction_time",
    "transaction_date_time": "transaction_time",
    "transaction_datetime": "transaction_time",
    "sku": "vendor_sku",
    "app_title": "title",
    "app_name": "title",
    "subscription_term": "in_app_subscription_term",
    "iap_subscription_term": "in_app_subscription_term",
    "number_of_units_of_purchase": "units",
    "units_sold": "units",
    "quantity": "units",
    "currency": "marketplace_currency",
    "marketplace_currency_code": "marketplace_currency",
    "price": "sales_price",
    "sale_price": "sales_price",
    "earnings": "estimated_earnings",
    "estimated_earning": "estimated_earnings",
    "subscription_status": "in_app_subscription_status",
    "iap_subscription_status": "in_app_subscription_status",
    "user_id": "app_user_id",
    "order_id": "digital_order_id",
    "adjustments": "adjustment",
}

_PARENTHESES = re.compile(r"\([^)]*\)")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class ColumnMapping:
    """For each canonical column, the source index it comes from (None: absent)."""

    source_index: tuple[int | None, ...]
    unknown: tuple[str, ...]
    missing: tuple[str, ...]


def normalise(name: str) -> str:
    """Lower-case a header name and fold punctuation and spaces into single underscores."""
    return _NON_ALNUM.sub("_", name.replace("\ufeff", "").strip().lower()).strip("_")


# How well a header names its canonical column, best first: 0 the whole normalised header is the
# canonical name, 1 it is a known alias, 2 the header without its parenthesised parts is the canonical
# name, 3 that is a known alias. Two source columns for one canonical column: the lower rank wins,
# then the first in file order; the other is reported as unknown (schema drift), never an error.
def match(header: str) -> tuple[str, int] | None:
    """The canonical column a source header names and its rank (lower is better), or None."""
    for rank, candidate in ((0, normalise(header)), (2, normalise(_PARENTHESES.sub(" ", header)))):
        if candidate in CANONICAL_COLUMNS:
            return candidate, rank
        if candidate in ALIASES:
            return ALIASES[candidate], rank + 1
    return None


def canonical_name(header: str) -> str | None:
    """The canonical column a source header names, or None when it is unknown."""
    found = match(header)
    return None if found is None else found[0]


def map_header(header: list[str]) -> ColumnMapping:
    """Match source columns to canonical ones by name, never by position; losers of a tie go to `unknown`."""
    best: dict[str, tuple[int, int]] = {}  # canonical column -> (rank, source position)
    for position, name in enumerate(header):
        found = match(name)
        if found is not None and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], position)
    if not best:
        raise SchemaError(f"no known sales column in header {[h.strip() for h in header][:30]!r}")
    index = {column: position for column, (_, position) in best.items()}
    chosen = set(index.values())
    return ColumnMapping(
        source_index=tuple(index.get(column) for column in CANONICAL_COLUMNS),
        unknown=tuple(name.replace("\ufeff", "").strip() for position, name in enumerate(header) if position not in chosen),
        missing=tuple(c for c in CANONICAL_COLUMNS if c not in index),
    )
