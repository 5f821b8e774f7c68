"""ILLUSTRATIONS, not Amazon's format: earnings and subscription report files for the emulator.

Amazon has not documented the columns or layout of these files (README "Report types"). The
files below are plausible stand-ins built from what public sources mention: the 2014 earnings
export's title lines, Notes, Summary and Detail blocks, `"3,121"` thousands separators, `(4.18)`
negatives and M/D/YYYY dates; payment fields (Tax Withheld, Exchange Rate, AWS Credit, Payment
Amount, Payment Status, Payment Date); daily counts per subscription item. They exist to exercise
the schema-free archiving, never as a schema to rely on.
"""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import random
import zipfile
from decimal import Decimal

MARKETS = (("Amazon.com", "USD", "1"), ("Amazon.de", "EUR", "0.92"), ("Amazon.co.jp", "JPY", "151.2"))
MONTHLY = (
    "Marketplace", "Earnings Period", "Invoice Date", "Earnings Before Tax", "Currency", "Tax Withheld", "Adjustments",
    "Exchange Rate", "AWS Credit", "Payment Amount", "Payment Currency", "Payment Status", "Payment Date",
)  # fmt: skip
SUMMARY = (
    "Marketplace",
    "From Date",
    "To Date",
    "Charge Units",
    "Refund Units",
    "Gross Earnings",
    "Refunds",
    "Earnings Before Tax",
    "Currency",
)
DETAIL = ("Marketplace", "Earnings Period", "Tax Withheld", "Payment Amount", "Payment Currency", "Payment Status", "Payment Date")
SUBSCRIPTION = ("Date", "Subscription Item", "Subscription SKU", "Active", "Started", "Ended", "Refunded")
ITEMS = (("Quiet Garden Plus, monthly", "QG-PLUS-1M"), ("Quiet Garden Plus, yearly", "QG-PLUS-1Y"))


def amount(value: Decimal) -> str:
    """An amount as the 2014 export wrote it: thousands separators, negatives in parentheses."""
    text = f"{abs(value):,.2f}"
    return f"({text})" if value < 0 else text


def _date(year: int, month: int, day: int) -> str:
    return f"{month}/{day}/{year}"


def _csv(rows: list[list[str]]) -> bytes:
    """Rows as CRLF CSV, quoted where needed; an empty list is a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        if row:
            writer.writerow(row)
        else:
            out.write("\r\n")
    return out.getvalue().encode("utf-8")


def _month_figures(year: int, month: int, market: int) -> tuple[int, int, Decimal, Decimal]:
    """Deterministic charge units, refund units, gross and refunds of one marketplace and month."""
    rng = random.Random(year * 1000 + month * 10 + market)
    units = rng.randint(900, 4200) // (market + 1)
    refunds = rng.randint(0, 15)
    price = Decimal("1.99")
    return units, refunds, price * units, -price * refunds


def monthly_earnings(year: int, month: int) -> bytes:
    """One table, one row per marketplace (gzip)."""
    last = calendar.monthrange(year, month)[1]
    paid_month = (year + month // 12, month % 12 + 1)
    rows: list[list[str]] = [list(MONTHLY)]
    for index, (market, currency, rate) in enumerate(MARKETS):
        units, _, gross, refunds = _month_figures(year, month, index)
        before_tax = (gross + refunds) * Decimal("0.70")
        tax = -(before_tax * Decimal("0.05")).quantize(Decimal("0.01"))
        payment = (before_tax + tax) / Decimal(rate)
        rows.append(
            [market, f"{year}-{month:02d}", _date(year, month, last), amount(before_tax), currency, amount(tax), amount(Decimal(0)),
             rate, "0.00", amount(payment), "USD", "Issued" if units else "Not issued", _date(*paid_month, 28)]
        )  # fmt: skip
    return gzip.compress(_csv(rows), mtime=0)


def yearly_earnings(year: int, last_month: int) -> bytes:
    """Title lines, Notes, a Summary and a Detail block, in a ZIP holding one CSV."""
    rows: list[list[str]] = [["Amazon Mobile App Distribution"], ["Earnings Report"], [f"1/1/{year} - 12/31/{year}"], []]
    rows += [["Notes"], ["Amounts are before taxes and adjustments unless stated"], ["Payments, once issued, are in USD"], []]
    rows += [["Summary"], list(SUMMARY)]
    detail: list[list[str]] = [[], ["Detail"], list(DETAIL)]
    for index, (market, currency, _) in enumerate(MARKETS):
        units, refunds, gross, back = 0, 0, Decimal(0), Decimal(0)
        for month in range(1, last_month + 1):
            figures = _month_figures(year, month, index)
            units, refunds, gross, back = units + figures[0], refunds + figures[1], gross + figures[2], back + figures[3]
            payment = (figures[2] + figures[3]) * Decimal("0.665")
            paid = _date(year + month // 12, month % 12 + 1, 28)
            detail.append([market, f"{year}-{month:02d}", amount(-payment * Decimal("0.05")), amount(payment), "USD", "Issued", paid])
        rows.append(
            [market, _date(year, 1, 1), _date(year, 12, 31), f"{units:,}", str(refunds), amount(gross), amount(back),
             amount((gross + back) * Decimal("0.70")), currency]
        )  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(f"earnings_{year}.csv", (year, 1, 1, 0, 0, 0)), _csv(rows + detail))
    return out.getvalue()


def subscription(year: int, month: int, last_day: int | None = None) -> bytes:
    """Daily counts per subscription item (gzip)."""
    rows: list[list[str]] = [list(SUBSCRIPTION)]
    active = [120, 35]
    for day in range(1, (last_day or calendar.monthrange(year, month)[1]) + 1):
        for index, (item, sku) in enumerate(ITEMS):
            rng = random.Random(year * 10000 + month * 100 + day * 2 + index)
            started, ended, refunded = rng.randint(0, 9), rng.randint(0, 6), rng.randint(0, 1)
            active[index] += started - ended
            rows.append([f"{year}-{month:02d}-{day:02d}", item, sku, str(active[index]), str(started), str(ended), str(refunded)])
    return gzip.compress(_csv(rows), mtime=0)
