"""`make demo`: the whole pipeline on a laptop: moto server, the Appstore API emulator, the real handler, local Athena.

python -m infra.local.demo [--keep-running] [--start-month YYYY-MM] [--report FILE]
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import io
import itertools
import json
import re
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from infra.local.athena import LocalAthena, format_table
from infra.local.athena_sync import glue_tables
from infra.local.config import BUCKET, DATABASE, TABLE
from infra.local.demoreport import REPORT_FILE, write_report
from infra.local.keep import keep_running
from infra.local.progress import RunOutput
from infra.local.stack import LocalStack, MotoServer
from infra.local.state import STATE_FILE

SYMBOLS = {"archived": "A", "unchanged": "=", "not_found": "-", "failed": "!", "deferred": ">", "unsupported": "?"}
REVENUE = "Revenue and earnings by app and currency per month"
UNITS = "Units by country per month"
TYPED_VIEW = "Create the typed sales view"
COMPLETENESS = "Completeness per report type and period"
MONTHLY_STATUS = "Sales per month with each month's completeness status"
PER_YEAR = (
    "SELECT year, count(*) AS transactions, sum(units) AS units, count(DISTINCT title) AS titles"
    " FROM sales_typed GROUP BY year ORDER BY year"
)
PER_CURRENCY = (
    "SELECT year, month, marketplace_currency, count(*), sum(try_cast(sales_price AS decimal(18, 6))) FROM sales GROUP BY 1, 2, 3"
)
FIRST_MONTH = "2018-01"  # the first month with sales reports
RESTATEMENTS_VIEW = "Create the sales restatements view"
RESTATED = (
    "SELECT fetch_number, fetched_at, currency, rows, units, sales, estimated_earnings, rows_change, units_change, sales_change,"
    " estimated_earnings_change FROM sales_restatements WHERE year = '{year}' AND month = '{month}'"
    " AND (rows_change <> 0 OR units_change <> 0 OR sales_change <> 0 OR estimated_earnings_change <> 0) ORDER BY fetch_number, currency"
)
# One query per schema-free report type, over the typed views the run keeps (docs/reference.md "Typed views"): a column per header
# of the (illustrative) emulator files, amounts as decimals, dates as dates.
TYPE_QUERIES = (
    (
        "earnings",
        "SELECT year, month, marketplace, earnings_before_tax, tax_withheld, payment_amount, payment_date, payment_status"
        " FROM sales_earnings_typed ORDER BY year DESC, month DESC, line LIMIT 6",
    ),
    (
        "earnings_yearly",
        "SELECT year, marketplace, charge_units, gross_earnings, refunds, currency"
        " FROM sales_earnings_yearly_typed_summary ORDER BY year, line",
    ),
    (
        "subscription",
        "SELECT year, month, subscription_sku, sum(started) AS started, sum(ended) AS ended, max(date) AS last_day"
        " FROM sales_subscription_typed GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2 DESC, 3 LIMIT 6",
    ),
)
PAID = "What Amazon paid per month (typed earnings)"


def section(title: str) -> None:
    """Print a section heading."""
    print(f"\n== {title}")


def indent(text: str, by: str = "  ") -> str:
    """Every line of a text indented."""
    return "\n".join(by + line for line in text.splitlines())


class Demo:
    """Runs the handler as the schedule does and shows what it left behind."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.s3, self.glue = stack.clients.s3, stack.clients.glue
        self.prefix = stack.env["ARCHIVE_PREFIX"]
        self.output = RunOutput()  # the handler's stdout: a progress line per month; EMF metrics kept
        self.captured = self.output.kept
        self.athena: LocalAthena | None = None

    def run(self, title: str) -> list[dict[str, Any]]:
        """Invoke the handler with the schedule's event and print the outcome and EMF metric totals."""
        section(title)
        mark, started = self.captured.tell(), time.monotonic()
        try:
            with contextlib.redirect_stdout(self.output):
                results: list[dict[str, Any]] = self.stack.invoke()["results"]
        except Exception:
            self.print_metrics(mark)
            raise
        print(f"  {len(results)} results in {time.monotonic() - started:.1f} s:")
        for report in dict.fromkeys(r["report"] for r in results):
            mine = [r for r in results if r["report"] == report]
            periods = sorted(r["month"] for r in mine)
            summary = ", ".join(f"{n} {status}" for status, n in Counter(r["status"] for r in mine).most_common())
            print(f"    {report:<16} {len(mine):>3} periods ({periods[0]} … {periods[-1]}): {summary}")
        self.print_metrics(mark)
        drift = sorted({c for r in results for c in r["unknown_columns"]})
        if drift:
            print(f"  schema drift: unknown source columns {drift}")
        return results

    def print_metrics(self, mark: int) -> None:
        """The EMF metric totals the handler printed since `mark`."""
        self.captured.seek(mark)
        metrics = emf_totals(self.captured.read())
        self.captured.seek(0, io.SEEK_END)
        print("  EMF metrics:", " ".join(f"{name}={value:g}" for name, value in metrics.items()) or "(none)")

    def month_grid(self, results: list[dict[str, Any]]) -> None:
        """One line per year, one cell per month (sales)."""
        by_month = {r["month"]: SYMBOLS[r["status"]] for r in results if r["report"] == "sales"}
        print("\n        " + " ".join(calendar.month_abbr[m] for m in range(1, 13)))
        for year in sorted({int(m[:4]) for m in by_month}):
            print(f"  {year}  " + " ".join(f" {by_month.get(f'{year}-{m:02d}', ' ')} " for m in range(1, 13)).rstrip())
        print("  " + "  ".join(f"{symbol} {status}" for status, symbol in SYMBOLS.items()))

    def versions(self) -> dict[str, list[str]]:
        """Every object version under the archive prefix, by key."""
        found: dict[str, list[str]] = {}
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=self.prefix):
            for version in page.get("Versions", []):
                found.setdefault(version["Key"], []).append(version["VersionId"])
        return found

    def s3_layout(self) -> None:
        """Object counts, sizes and sample keys per area of the archive."""
        section(f"S3 layout of s3://{BUCKET}/{self.prefix}")
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=self.prefix)
        objects = [(o["Key"], o["Size"]) for page in pages for o in page.get("Contents", [])]
        areas: dict[str, list[tuple[str, int]]] = {}
        for key, size in objects:
            folders = key[len(self.prefix) :].split("/")[:-1]
            area = "/".join(itertools.takewhile(lambda folder: "=" not in folder, folders))
            areas.setdefault(area + "/", []).append((key, size))
        for area, items in sorted(areas.items()):
            print(f"  {area:<24} {len(items):>4} objects {sum(s for _, s in items) / 1024:>8.1f} KiB   e.g.")
            for key, _ in [items[0], items[-1]] if len(items) > 1 else items:
                print(f"      {key}")
        for key in [items[-1][0] for area, items in sorted(areas.items()) if "state/" not in area]:
            metadata = self.s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]
            print(f"  metadata of {key.rsplit('/', 1)[-1]}: " + ", ".join(f"{k}={v}" for k, v in sorted(metadata.items())))

    def partitions(self) -> None:
        """Count, range and a sample location of the Glue partitions."""
        section(f"Glue partitions of {DATABASE}.{TABLE}")
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=DATABASE, TableName=TABLE)
        found = sorted((p["Values"], p["StorageDescriptor"]["Location"]) for page in pages for p in page["Partitions"])
        if not found:
            print("  none")
            return
        print(f"  {len(found)} partitions (year, month), {'/'.join(found[0][0])} … {'/'.join(found[-1][0])}")
        print(f"  e.g. {found[-1][0]} → {found[-1][1]}")

    def queries(self, months: list[str]) -> None:
        """The template's named queries through the local Athena stand-in."""
        athena = self.local_athena()
        section(f"Athena named queries (local stand-in: DuckDB over the {athena.files} curated objects of the registered partitions)")
        athena.run_named(TYPED_VIEW)
        print(f"  [{TYPED_VIEW}] → {DATABASE}.{TABLE}_typed created")
        wanted = {tuple(m.split("-")) for m in months}
        for name, limit in ((REVENUE, 30), (UNITS, 12)):
            result = athena.run_named(name)
            rows = [row for row in result.rows if (row[0], row[1]) in wanted]
            print(f"\n  -- {name} ({', '.join(sorted(months))})")
            print(indent(format_table(result.columns, rows, max_rows=limit)))
        print(f"\n  -- {PER_YEAR}")
        print(indent(format_table(*athena.query(PER_YEAR))))
        typed = {name for name in glue_tables(self.glue, DATABASE) if "_typed" in name}  # a type's views come with its first period
        for report, sql in TYPE_QUERIES:
            print(f"\n  -- {report} (a typed view the run keeps over the schema-free rows; the emulator's file is an illustration): {sql}")
            view = sql.split(" FROM ")[1].split()[0]
            print(
                indent(format_table(*athena.query(sql), max_rows=8)) if view in typed else f"  (no {view} yet: no {report} period archived)"
            )
        print(f"\n  -- {PAID} (named query over the typed earnings view)")
        paid = f"{TABLE}_earnings_typed" in typed
        print(
            indent(format_table(*athena.run_named(PAID), max_rows=8))
            if paid
            else f"  (no {TABLE}_earnings_typed yet: no earnings period archived)"
        )

    def restatements(self, month: str) -> None:
        """The month's versions Amazon served and each one's change, through the restatements view over the history table."""
        athena = self.local_athena()
        athena.run_named(RESTATEMENTS_VIEW)
        year, mm = month.split("-")
        sql = RESTATED.format(year=year, month=mm)
        print(f"\n  [{RESTATEMENTS_VIEW}] → {DATABASE}.{TABLE}_restatements created; what each new version of {month} changed:")
        print(f"  -- {sql}")
        print(indent(format_table(*athena.query(sql))))

    def completeness(self) -> None:
        """The periods table through the local Athena: a row for every period of every report type, and the months it keeps."""
        athena = self.local_athena()
        section("Completeness: the periods table (one row per report type and period, from START_MONTH to now)")
        result = athena.run_named(COMPLETENESS)
        print(f"  -- {COMPLETENESS}")
        print(indent(format_table(result.columns, result.rows, max_width=24)))
        result = athena.run_named(MONTHLY_STATUS)
        rows = [row for row in result.rows if row[3] in (None, "USD")]  # column 3: marketplace_currency
        print(f"\n  -- {MONTHLY_STATUS}: its USD rows, and every month without sales rows, which keeps its row and status")
        print(indent(format_table(result.columns, rows, max_width=24)))

    def local_athena(self) -> LocalAthena:
        """The Athena stand-in, refreshed to the partitions registered now."""
        if self.athena is None:
            self.athena = LocalAthena(self.glue, self.s3, DATABASE, TABLE)
        self.athena.refresh()  # the stand-in loads lazily; the demo counts the sales table's objects before its queries
        return self.athena

    def currency_totals(self, month: str) -> dict[str, tuple[Any, ...]]:
        """Rows, sales and earnings per currency of one month, through the local Athena."""
        year, mm = month.split("-")
        return {row[2]: row[3:] for row in self.local_athena().query(PER_CURRENCY).rows if row[:2] == (year, mm)}


def emf_totals(output: str) -> dict[str, float]:
    """Sum each EMF metric printed in the output."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values if isinstance(values, list) else [values])
    return totals


def no_rewrites(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """Print version counts; return the keys that got new versions."""
    changed = sorted(k for k in after if len(after[k]) != len(before.get(k, [])))
    count = sum(map(len, before.values())), sum(map(len, after.values()))
    print(f"  S3 object versions under the prefix: {count[0]} before, {count[1]} after")
    print("  new versions: " + (", ".join(changed) if changed else "none: unchanged months are not rewritten"))
    return changed


def demo(stack: LocalStack, started: float, report_file: Path = REPORT_FILE) -> None:
    """The three runs and what they show."""
    env = stack.env
    current = time.strftime("%Y-%m", time.gmtime())
    print("Appstore sales archive: local demo (no AWS account, no Amazon developer account)")
    print(f"  report types             {env['REPORTS']}")
    print(f"  local AWS (moto server)  {stack.endpoint}   S3, Glue, Secrets Manager; resources from template.yaml")
    print(f"  Appstore API emulator    {stack.emulator.base_url}   token, report links, presigned downloads")
    print(f"  archive                  s3://{BUCKET}/{env['ARCHIVE_PREFIX']}   Glue table {DATABASE}.{TABLE}")
    settings = f"START_MONTH={env['START_MONTH']} LOOKBACK_MONTHS={env['LOOKBACK_MONTHS']}"
    print(f"  schedule event {{}}        {settings} (current month {current})")
    d = Demo(stack)
    try:
        show_runs(d)
        section("The report: what `appstore-archive report --local` writes for this archive")
        report = write_report(d.local_athena(), report_file)
    finally:
        if d.athena is not None:
            d.athena.close()
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s.")
    print(f"Report of the demo archive (one HTML file, opens offline): {report}")


def show_runs(d: Demo) -> None:
    """Backfill, an unchanged rerun, a restatement and its rerun, with what each left behind."""
    first = d.run("Run 1: the first scheduled run backfills every month since START_MONTH")
    d.month_grid(first)
    d.s3_layout()
    d.partitions()
    archived = sorted(r["month"] for r in first if r["status"] == "archived" and r["report"] == "sales")
    d.queries(archived[-2:])
    d.completeness()
    before = d.versions()
    second = d.run("Run 2: the next day; nothing changed at Amazon, only the lookback months are asked again")
    no_rewrites(before, d.versions())
    asked = sorted(r["month"] for r in second if r["report"] == "sales")
    restated = asked[-2] if len(asked) > 1 else asked[-1]  # the previous month, as Amazon restates it
    year, month = map(int, restated.split("-"))
    old = d.currency_totals(restated)
    revision = d.stack.emulator.restate(year, month)
    section(f"Amazon restates {restated} (revision {revision}: one amount cut by 10%, one refund added)")
    before = d.versions()
    d.run("Run 3: the next scheduled run re-archives the restated month only")
    no_rewrites(before, d.versions())
    new = d.currency_totals(restated)
    rows = [(c, *old.get(c, (0, None)), *new[c]) for c in sorted(new) if old.get(c) != new[c]]
    print(f"\n  {restated} per currency where the restatement changed something (local Athena, before → after):")
    print(indent(format_table(["currency", "rows before", "sales before", "rows after", "sales after"], rows), "    "))
    d.restatements(restated)


def start_month(text: str) -> str:
    """A --start-month value: YYYY-MM, from 2018-01 (the first month with reports) to the current month."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month (YYYY-MM)")
    current = time.strftime("%Y-%m", time.gmtime())
    if text < FIRST_MONTH:
        raise argparse.ArgumentTypeError(f"{text} is before {FIRST_MONTH}, the first month with sales reports")
    if text > current:
        raise argparse.ArgumentTypeError(f"{text} is after the current month {current}")
    return text


def default_start() -> str:
    """January two years back: three report types at 3 link requests a second keep the demo under a minute."""
    return f"{time.gmtime().tm_year - 2:04d}-01"


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the demo as Ctrl-C does, so the servers are stopped and the state file removed."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start the local stack, run the demo, stop everything; non-zero with a message on failure."""
    parser = argparse.ArgumentParser(prog="python -m infra.local.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep-running", action="store_true", help="leave the stack running afterwards until Ctrl-C (published in .demo/stack.json)"
    )
    parser.add_argument(
        "--start-month",
        type=start_month,
        metavar="YYYY-MM",
        help="first month to backfill, 2018-01 or later (default: January two years back)",
    )
    parser.add_argument(
        "--state-file", type=Path, default=STATE_FILE, help=f"with --keep-running: where (default: {STATE_FILE.name} in .demo/)"
    )
    parser.add_argument(
        "--report", type=Path, default=REPORT_FILE, help="where the demo writes its HTML report (default: .demo/report.html)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    server, stack = MotoServer(), None
    try:
        server.start()
        stack = LocalStack(server.url)  # every report type (the template's REPORTS)
        stack.env["POWERTOOLS_LOG_LEVEL"] = "INFO"  # the handler's per-month log lines become the progress lines
        stack.env["START_MONTH"] = args.start_month or default_start()
        demo(stack, started, args.report)
        if args.keep_running:
            section("The stack keeps running; Ctrl-C stops it")
            keep_running(stack, args.state_file)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"\ndemo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if stack is not None:
            stack.close()
        server.stop()
        print("stopped the Appstore API emulator and moto server", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
