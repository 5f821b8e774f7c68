"""Header normalisation and canonical column mapping."""

from __future__ import annotations

import pytest

from archiver.core.errors import ReportFormatError
from archiver.formats.schema import CANONICAL_COLUMNS, SchemaError, canonical_name, map_header, match, normalise
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


@pytest.mark.parametrize(
    ("header", "found"),
    [
        ("Sales Price", ("sales_price", 0)),
        ("Price", ("sales_price", 1)),
        ("Sales Price (Marketplace Currency)", ("sales_price", 1)),  # the seed's header, listed whole
        ("Estimated Earnings (Marketplace Currency)", ("estimated_earnings", 1)),
        ("Units (number of units of purchase)", ("units", 1)),
        ("Sales Price (USD)", ("sales_price", 2)),
        ("Price (USD)", ("sales_price", 3)),
        ("Promotion ID", None),
    ],
)
def test_match_ranks(header: str, found: tuple[str, int] | None) -> None:
    assert match(header) == found


# Two source columns for one canonical column: the better rank wins, then file order; the other is drift.
@pytest.mark.parametrize(
    ("header", "column", "position", "unknown"),
    [
        (["Sales Price", "Price"], "sales_price", 0, ("Price",)),
        (["Price", "Sales Price"], "sales_price", 1, ("Price",)),
        (["Sales Price (USD)", "Sales Price (Marketplace Currency)"], "sales_price", 1, ("Sales Price (USD)",)),
        (["Sales Price (Marketplace Currency)", "Sales Price (USD)"], "sales_price", 0, ("Sales Price (USD)",)),
        (["Sales Price (USD)", "Sales Price (EUR)"], "sales_price", 0, ("Sales Price (EUR)",)),
        (["Title", " TITLE "], "title", 0, ("TITLE",)),
        (["Currency (ISO)", "Currency", "Marketplace Currency"], "marketplace_currency", 2, ("Currency (ISO)", "Currency")),
        (["Earnings (USD)", "Promotion ID", "Earnings (EUR)"], "estimated_earnings", 0, ("Promotion ID", "Earnings (EUR)")),
    ],
)
def test_two_columns_for_one_canonical_column(header: list[str], column: str, position: int, unknown: tuple[str, ...]) -> None:
    mapping = map_header(header)
    assert mapping.source_index[CANONICAL_COLUMNS.index(column)] == position
    assert mapping.unknown == unknown


@pytest.mark.parametrize("at", [0, 14, 15, 16])
def test_seed_header_keeps_its_columns_when_usd_variants_appear(at: int) -> None:
    header = [*SEED_HEADER[:at], "Sales Price (USD)", "Estimated Earnings (USD)", *SEED_HEADER[at:]]
    mapping = map_header(header)
    seed = map_header(SEED_HEADER)
    assert [None if i is None else header[i] for i in mapping.source_index] == [
        None if i is None else SEED_HEADER[i] for i in seed.source_index
    ]
    assert mapping.unknown == ("Sales Price (USD)", "Estimated Earnings (USD)")


def test_a_header_with_no_sales_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match="no known sales column"):
        map_header(["foo", "bar"])
    assert issubclass(SchemaError, ReportFormatError)  # the caller quarantines on one exception type


def test_normalise() -> None:
    assert normalise(" In-App  Subscription/Term ") == "in_app_subscription_term"
