"""Header normalisation and canonical column mapping."""

from __future__ import annotations

import pytest

from archiver.schema import CANONICAL_COLUMNS, SchemaError, canonical_name, map_header, normalise
from tests.unit.reports import SEED_HEADER


def test_seed_header_maps_in_order() -> None:
    mapping = map_header(SEED_HEADER)
    assert mapping.source_index[:16] == tuple(range(16))
    assert mapping.unknown == ()
    assert mapping.missing == CANONICAL_COLUMNS[16:]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("\ufeffMarketplace", "marketplace"),
        ("Country/Region Code", "country_region_code"),
        ("COUNTRY CODE", "country_region_code"),
        ("Units (number of units of purchase)", "units"),
        ("Usage Time (for Underground apps)", "usage_time"),
        ("Sales Price (Marketplace Currency)", "sales_price"),
        ("Estimated Earnings", "estimated_earnings"),
        ("In-App Subscription Status (Trial / Paid)", "in_app_subscription_status"),
        ("  App User ID ", "app_user_id"),
        ("SKU", "vendor_sku"),
        ("Transaction Date", "transaction_time"),
        ("Promotion ID", None),
    ],
)
def test_canonical_name(header: str, column: str | None) -> None:
    assert canonical_name(header) == column


def test_reordered_renamed_and_extra_columns() -> None:
    header = ["Estimated Earnings", "Promotion ID", "Currency", "Transaction ID", "ASIN"]
    mapping = map_header(header)
    index = dict(zip(CANONICAL_COLUMNS, mapping.source_index, strict=True))
    assert index["estimated_earnings"] == 0
    assert index["marketplace_currency"] == 2
    assert index["transaction_id"] == 3
    assert index["asin"] == 4
    assert index["marketplace"] is None
    assert mapping.unknown == ("Promotion ID",)


def test_two_columns_for_one_canonical_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match="both map to 'sales_price'"):
        map_header(["Sales Price", "Price"])


def test_a_header_with_no_sales_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match="no known sales column"):
        map_header(["foo", "bar"])


def test_normalise() -> None:
    assert normalise(" In-App  Subscription/Term ") == "in_app_subscription_term"
