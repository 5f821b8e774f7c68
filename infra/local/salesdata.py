"""Deterministic sales data for a fictional Appstore developer, written as Amazon writes it."""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import random
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

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


def csv_name(year: int, month: int) -> str:
    """The CSV member name inside the archive, e.g. sales_2024_03.csv."""
    return f"sales_{year:04d}_{month:02d}.csv"


def file_name(year: int, month: int, compression: str) -> str:
    """The served file name, e.g. sales_2024_03.zip or sales_2024_03.gz."""
    return f"sales_{year:04d}_{month:02d}." + ("zip" if compression == "zip" else "gz")


def rows_for_size(target_bytes: int) -> int:
    """A row count whose compressed file is at least target_bytes (about 33 bytes a row)."""
    return target_bytes // 30 + 1


def _money(value: Decimal, decimals: int) -> Decimal:
    """Round half-up to the currency's decimals."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _hex(rng: random.Random, chars: int) -> str:
    """Random lower-case hex of the given length."""
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


class SalesData:
    """Seeded generator of monthly sales rows, headers, files and expected totals."""

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

    def expected_totals(self, year: int, month: int, options: MonthOptions = MonthOptions()) -> MonthTotals:
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

    def csv_chunks(self, year: int, month: int, options: MonthOptions) -> Iterator[str]:
        """The CSV text, one chunk per line (header first), RFC 4180 quoted."""
        columns = self.columns(options.variant, year, month)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")  # CRLF terminator: quote any CR or LF

        def line(values: list[str]) -> str:
            """One CSV record with the chosen line ending."""
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(values)
            return buffer.getvalue()[:-2] + options.line_ending

        yield ("\ufeff" if options.bom else "") + line([name for name, _ in columns])
        if options.header_only:
            return
        for row in self.rows(year, month, rows=options.rows, revision=options.revision):
            if options.variant == "renamed":  # the old files' US date order
                date, rest = row["transaction_time"].split(" ", 1)
                row["transaction_time"] = f"{date[5:7]}/{date[8:10]}/{date[:4]} {rest}"
            promo = f"PROMO-{row['invoice_id'][-3:]}" if row["invoice_id"].endswith("7") else ""
            yield line([row[key] if key else promo for _, key in columns])

    def write_report(self, out: IO[bytes], year: int, month: int, options: MonthOptions = MonthOptions()) -> None:
        """Stream a month's compressed report into a seekable binary file."""
        chunks = self.csv_chunks(year, month, options)
        if options.compression == "zip":
            info = zipfile.ZipInfo(csv_name(year, month), date_time=(year, month, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zipfile.ZipFile(out, "w") as archive, archive.open(info, "w") as member:
                for chunk in chunks:
                    member.write(chunk.encode("utf-8"))
            return
        mtime = calendar.timegm((year, month, 1, 0, 0, 0))
        if not options.multi_member:
            with gzip.GzipFile(csv_name(year, month), "wb", fileobj=out, mtime=mtime) as single:
                for chunk in chunks:
                    single.write(chunk.encode("utf-8"))
            return
        # Several members: the header alone first (what a one-member reader would stop after),
        # then the rows split in two halves.
        count = 0 if options.header_only else self.row_count(year, month, options.rows)
        split = count // 2 + 1
        for number, lines in enumerate((1, split, None)):
            with gzip.GzipFile(csv_name(year, month), "wb", fileobj=out, mtime=mtime + number) as part:
                for taken, chunk in enumerate(chunks, start=1):
                    part.write(chunk.encode("utf-8"))
                    if lines is not None and taken >= lines:
                        break


def main(argv: list[str] | None = None) -> int:
    """Write one month's report file, e.g. a 50 MB one for load tests."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", help="file to write")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--month", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--size-mb", type=float, default=None, help="aim for at least this compressed size")
    parser.add_argument("--variant", choices=VARIANTS, default="seed16")
    parser.add_argument("--compression", choices=COMPRESSIONS, default="zip")
    parser.add_argument("--bom", action="store_true")
    parser.add_argument("--multi-member", action="store_true")
    args = parser.parse_args(argv)
    rows = rows_for_size(int(args.size_mb * 1_000_000)) if args.size_mb else args.rows
    options = MonthOptions(args.variant, args.compression, args.bom, rows=rows, multi_member=args.multi_member)
    with open(args.out, "wb") as out:
        SalesData(seed=args.seed).write_report(out, args.year, args.month, options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
