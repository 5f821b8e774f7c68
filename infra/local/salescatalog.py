"""The fictional developer's catalog, marketplaces and report layouts, and the month option and totals types."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

FIELDS: tuple[str, ...] = (
    "marketplace", "country_region_code", "invoice_id", "transaction_id", "transaction_time",
    "transaction_type", "vendor_sku", "title", "item_name", "item_type",
    "in_app_subscription_term", "units", "usage_time", "marketplace_currency", "sales_price",
    "estimated_earnings", "asin", "in_app_subscription_status", "app_user_id", "receipt_id",
    "digital_order_id", "adjustment",
)  # fmt: skip
SEED16: tuple[tuple[str, str], ...] = (
    ("Marketplace", "marketplace"), ("Country/Region Code", "country_region_code"),
    ("Invoice ID", "invoice_id"), ("Transaction ID", "transaction_id"),
    ("Transaction Time", "transaction_time"), ("Transaction Type", "transaction_type"),
    ("Vendor SKU", "vendor_sku"), ("Title", "title"), ("Item Name", "item_name"),
    ("Item Type", "item_type"), ("In-App Subscription Term", "in_app_subscription_term"),
    ("Units", "units"), ("Usage Time", "usage_time"), ("Marketplace Currency", "marketplace_currency"),
    ("Sales Price (Marketplace Currency)", "sales_price"),
    ("Estimated Earnings (Marketplace Currency)", "estimated_earnings"),
)  # fmt: skip
RENAMED = {
    "country_region_code": "Country Code", "transaction_time": "Transaction Date", "vendor_sku": "SKU",
    "marketplace_currency": "Currency", "sales_price": "Sales Price", "estimated_earnings": "Estimated Earnings",
}  # fmt: skip
PROMOTION_ID = "Promotion ID"
VARIANTS = ("seed16", "extended", "reordered", "renamed", "drift")
COMPRESSIONS = ("zip", "gzip")
FIRST_MONTH = (2018, 1)
DEFAULT_SEED = 85923
DEFAULT_MISSING_MONTHS: frozenset[tuple[int, int]] = frozenset({(2018, 1), (2018, 2), (2018, 7), (2019, 12)})
EARNINGS_SHARE = Decimal("0.70")

# (marketplace, country, currency, decimals, rate from USD, local zone suffix)
MARKETPLACES: tuple[tuple[str, str, str, int, str, str], ...] = (
    ("Amazon.com", "US", "USD", 2, "1", "PST"), ("Amazon.ca", "CA", "CAD", 2, "1.35", "EST"),
    ("Amazon.com.br", "BR", "BRL", 2, "5", "BRT"), ("Amazon.de", "DE", "EUR", 2, "0.92", "CET"),
    ("Amazon.fr", "FR", "EUR", 2, "0.92", "CET"), ("Amazon.es", "ES", "EUR", 2, "0.92", "CET"),
    ("Amazon.co.uk", "GB", "GBP", 2, "0.79", "GMT"), ("Amazon.co.jp", "JP", "JPY", 0, "150", "JST"),
    ("Amazon.in", "IN", "INR", 2, "83", "IST"), ("Amazon.com.au", "AU", "AUD", 2, "1.52", "AEST"),
)  # fmt: skip
# (title, vendor sku, item name, item type, subscription term, USD price)
CATALOG: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Star Merchant, Deluxe Edition", "starmerchant", "Star Merchant, Deluxe Edition", "App", "", "2.99"),
    ("Star Merchant, Deluxe Edition", "sm.gems.100", "100 Gems", "Consumable", "", "0.99"),
    ('The "Quiet" Garden', "quietgarden", 'The "Quiet" Garden', "App", "", "1.99"),
    ('The "Quiet" Garden', "qg.season", 'Season Pass "Spring"', "Entitlement", "", "4.99"),
    ("Café Übersicht", "cafe.pro.m", "Café Pro, monthly", "Subscription", "1 Month", "3.99"),
    ("Café Übersicht", "cafe.pro.y", "Café Pro, yearly", "Subscription", "12 Months", "39.99"),
    ("日本語パズル 🧩", "nihongo", "日本語パズル 🧩", "App", "", "0.99"),
    ("日本語パズル 🧩", "nihongo.hints", "ヒント ×10 ✨", "Consumable", "", "1.49"),
    ("Line One\nLine Two Racer", "racer", "Line One\nLine Two Racer", "App", "", "0.99"),
    ("Carriage\r\nReturn Radio", "radio.plus", "Radio+\r\n3 months", "Subscription", "3 Months", "9.99"),
    ("Pocket Lantern", "lantern", "Pocket Lantern", "App", "", "0.00"),
    ("Pocket Lantern", "lantern.free", "Pocket Lantern (free install)", "App", "", "0.00"),
)  # fmt: skip


@dataclass(frozen=True)
class MonthOptions:
    """How one month's report file is written and which data it holds."""

    variant: str = "seed16"
    compression: str = "zip"
    bom: bool = False
    line_ending: str = "\r\n"
    rows: int | None = None
    empty: bool = False
    header_only: bool = False
    multi_member: bool = False
    revision: int = 0

    def __post_init__(self) -> None:
        """Reject unknown variants, compressions and line endings."""
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; expected one of {VARIANTS}")
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"unknown compression {self.compression!r}; expected one of {COMPRESSIONS}")
        if self.line_ending not in ("\r\n", "\n"):
            raise ValueError("line_ending must be '\\r\\n' or '\\n'")


#: The options of a month nobody configured (a plain seed16 ZIP).
DEFAULT_OPTIONS = MonthOptions()


@dataclass(frozen=True)
class GroupTotals:
    """Row count and exact sums for one (title, currency) group."""

    rows: int = 0
    units: Decimal = Decimal(0)
    sales_price: Decimal = Decimal(0)
    estimated_earnings: Decimal = Decimal(0)


@dataclass(frozen=True)
class MonthTotals:
    """The generator's truth for one month: row count and sums per (title, currency)."""

    year: int
    month: int
    rows: int
    groups: dict[tuple[str, str], GroupTotals] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form (Decimals as strings, groups as a list)."""
        groups = [
            {"title": t, "marketplace_currency": c, "rows": g.rows, "units": str(g.units),
             "sales_price": str(g.sales_price), "estimated_earnings": str(g.estimated_earnings)}
            for (t, c), g in sorted(self.groups.items())
        ]  # fmt: skip
        return {"year": self.year, "month": self.month, "rows": self.rows, "groups": groups}
