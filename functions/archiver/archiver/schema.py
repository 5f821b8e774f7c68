"""The canonical sales columns (the single definition) and header-name matching."""

from __future__ import annotations

import re
from dataclasses import dataclass

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

PARTITION_KEYS: tuple[str, ...] = ("year", "month")

# Other normalised header names seen for a canonical column (renamed over time).
ALIASES: dict[str, str] = {
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


class SchemaError(ValueError):
    """The report's header cannot be mapped safely onto the canonical columns."""


@dataclass(frozen=True)
class ColumnMapping:
    """For each canonical column, the source index it comes from (None: absent)."""

    source_index: tuple[int | None, ...]
    unknown: tuple[str, ...]
    missing: tuple[str, ...]


def normalise(name: str) -> str:
    """Lower-case a header name and fold punctuation and spaces into single underscores."""
    return _NON_ALNUM.sub("_", name.replace("\ufeff", "").strip().lower()).strip("_")


def canonical_name(header: str) -> str | None:
    """The canonical column a source header names, or None when it is unknown."""
    for candidate in (normalise(header), normalise(_PARENTHESES.sub(" ", header))):
        if candidate in CANONICAL_COLUMNS:
            return candidate
        if candidate in ALIASES:
            return ALIASES[candidate]
    return None


def map_header(header: list[str]) -> ColumnMapping:
    """Match source columns to canonical ones by normalised name, never by position."""
    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(header):
        column = canonical_name(name)
        if column is None:
            unknown.append(name.replace("\ufeff", "").strip())
        elif column in index:
            first = header[index[column]].strip()
            raise SchemaError(f"source columns {first!r} and {name.strip()!r} both map to {column!r}")
        else:
            index[column] = position
    if not index:
        raise SchemaError(f"no known sales column in header {[h.strip() for h in header][:30]!r}")
    return ColumnMapping(
        source_index=tuple(index.get(column) for column in CANONICAL_COLUMNS),
        unknown=tuple(unknown),
        missing=tuple(c for c in CANONICAL_COLUMNS if c not in index),
    )
