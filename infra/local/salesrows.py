"""Deterministic monthly sales rows (random access by index), restatements, columns and expected totals."""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterable, Iterator
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from infra.local.salescatalog import (
    CATALOG,
    DEFAULT_MISSING_MONTHS,
    DEFAULT_OPTIONS,
    DEFAULT_SEED,
    EARNINGS_SHARE,
    MARKETPLACES,
    PROMOTION_ID,
    RENAMED,
    SEED16,
    GroupTotals,
    MonthOptions,
    MonthTotals,
)


def _money(value: Decimal, decimals: int) -> Decimal:
    """Round half-up to the currency's decimals."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _hex(rng: random.Random, chars: int) -> str:
    """Random lower-case hex of the given length."""
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


class SalesRows:
    """Seeded generator of monthly sales rows, headers and expected totals."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        rows_per_month: int | None = None,
        missing_months: Iterable[tuple[int, int]] = DEFAULT_MISSING_MONTHS,
    ) -> None:
        """Rows per month default to a seeded 20-80; missing months have no report."""
        self.seed = seed
        self.rows_per_month = rows_per_month
        self.missing_months = frozenset(missing_months)

    def row_count(self, year: int, month: int, rows: int | None = None) -> int:
        """The number of base rows (before restatement) in a month."""
        if rows is not None:
            return rows
        if self.rows_per_month is not None:
            return self.rows_per_month
        return random.Random(f"{self.seed}:{year}:{month}:count").randint(20, 80)

    def base_row(self, year: int, month: int, index: int) -> dict[str, str]:
        """Row `index` of a month, derived from its own seeded RNG (random access)."""
        rng = random.Random(f"{self.seed}:{year}:{month}:{index}")
        market, country, currency, decimals, rate, zone = rng.choice(MARKETPLACES)
        title, sku, item, item_type, term, usd = rng.choice(CATALOG)
        units = rng.choice((1, 1, 1, 2, 3)) if item_type == "Consumable" else 1
        price = _money(Decimal(usd) * Decimal(rate), decimals) * units
        refund = price > 0 and rng.random() < 0.08
        if refund:
            units, price = -units, -price
        day = rng.randint(1, calendar.monthrange(year, month)[1])
        clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        stamp = f"{year:04d}-{month:02d}-{day:02d} {clock}"
        return {
            "marketplace": market,
            "country_region_code": country,
            "invoice_id": f"INV-{year:04d}{month:02d}-{index:07d}",
            "transaction_id": f"amzn1.txn.{_hex(rng, 24)}",
            "transaction_time": f"{stamp} {zone if rng.random() < 0.15 else 'UTC'}",
            "transaction_type": "Refund" if refund else "Charge",
            "vendor_sku": sku,
            "title": title,
            "item_name": item,
            "item_type": item_type,
            "in_app_subscription_term": term,
            "units": str(units),
            "usage_time": "",
            "marketplace_currency": currency,
            "sales_price": str(price),
            "estimated_earnings": str(_money(price * EARNINGS_SHARE, decimals)),
            "asin": "B0" + _hex(rng, 8).upper(),
            "in_app_subscription_status": rng.choice(("Trial", "Paid", "Paid")) if term else "",
            "app_user_id": f"amzn1.account.{_hex(rng, 28).upper()}",
            "receipt_id": f"rcpt:{_hex(rng, 32)}",
            "digital_order_id": f"D01-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}",
            "adjustment": "No",
        }

    def _paid_index(self, year: int, month: int, start: int, count: int) -> int | None:
        """The first index at or after start (wrapping) whose row is a paid Charge."""
        for step in range(count):
            index = (start + step) % count
            row = self.base_row(year, month, index)
            if row["transaction_type"] == "Charge" and Decimal(row["sales_price"]) > 0:
                return index
        return None

    def _revisions(self, year: int, month: int, count: int, revision: int) -> tuple[dict[int, int], list[int]]:
        """Per restatement: one row's price cut by 10% per hit, one refund row appended."""
        cuts: dict[int, int] = {}
        refunds: list[int] = []
        for number in range(1, revision + 1):
            rng = random.Random(f"{self.seed}:{year}:{month}:rev{number}")
            if count == 0:
                break
            cut = self._paid_index(year, month, rng.randrange(count), count)
            refund = self._paid_index(year, month, rng.randrange(count), count)
            if cut is None or refund is None:
                break
            cuts[cut] = cuts.get(cut, 0) + 1
            refunds.append(refund)
        return cuts, refunds

    def rows(self, year: int, month: int, *, rows: int | None = None, revision: int = 0) -> Iterator[dict[str, str]]:
        """Stream a month's rows; each restatement changes one amount and adds a refund."""
        count = self.row_count(year, month, rows)
        cuts, refunds = self._revisions(year, month, count, revision)
        for index in range(count):
            row = self.base_row(year, month, index)
            for _ in range(cuts.get(index, 0)):
                decimals = 0 if row["marketplace_currency"] == "JPY" else 2
                price = _money(Decimal(row["sales_price"]) * Decimal("0.9"), decimals)
                row["sales_price"] = str(price)
                row["estimated_earnings"] = str(_money(price * EARNINGS_SHARE, decimals))
            yield row
        for number, index in enumerate(refunds, start=1):
            row = self.base_row(year, month, index)
            for key in ("units", "sales_price", "estimated_earnings"):
                row[key] = str(-Decimal(row[key]))
            day = calendar.monthrange(year, month)[1]
            row.update(
                transaction_type="Refund",
                adjustment="Yes",
                invoice_id=f"ADJ-{year:04d}{month:02d}-{number:04d}",
                transaction_id=f"{row['transaction_id']}-adj{number}",
                transaction_time=f"{year:04d}-{month:02d}-{day:02d} 23:59:{number % 60:02d} UTC",
            )
            yield row

    def columns(self, variant: str, year: int, month: int) -> list[tuple[str, str]]:
        """(header, field) pairs for a variant; field '' is the unknown drift column."""
        seed16 = list(SEED16)
        if variant == "reordered":
            random.Random(f"{self.seed}:{year}:{month}:order").shuffle(seed16)
        if variant == "renamed":
            seed16 = [(RENAMED.get(key, name), key) for name, key in seed16]
        if variant in ("extended", "drift"):
            seed16.insert(7, ("ASIN", "asin"))
            seed16.insert(12, ("In-App Subscription Status (Trial / Paid)", "in_app_subscription_status"))
            seed16 += [("App User ID", "app_user_id"), ("Receipt ID", "receipt_id")]
            seed16 += [("Digital Order ID", "digital_order_id"), ("Adjustment", "adjustment")]
        if variant == "drift":
            seed16.insert(9, (PROMOTION_ID, ""))
        return seed16

    def expected_totals(self, year: int, month: int, options: MonthOptions = DEFAULT_OPTIONS) -> MonthTotals:
        """Row count and exact sums per (title, currency) of the file these options produce."""
        groups: dict[tuple[str, str], GroupTotals] = {}
        total = 0
        if not options.header_only:
            for row in self.rows(year, month, rows=options.rows, revision=options.revision):
                key = (row["title"], row["marketplace_currency"])
                old = groups.get(key, GroupTotals())
                groups[key] = replace(
                    old,
                    rows=old.rows + 1,
                    units=old.units + Decimal(row["units"]),
                    sales_price=old.sales_price + Decimal(row["sales_price"]),
                    estimated_earnings=old.estimated_earnings + Decimal(row["estimated_earnings"]),
                )
                total += 1
        return MonthTotals(year, month, total, groups)
