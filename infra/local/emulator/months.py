"""Per-month control of the served reports: settings, restatements, existence, expected totals and the stored file."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from infra.local.emulator.control import ControlState
from infra.local.salesdata import FIRST_MONTH, MonthOptions, MonthTotals, SalesData, file_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# How the emulator can answer link requests for a report type (set_report_answer; 'file' by default).
ANSWERS = ("file", "not_found", "unsupported")


class MonthState(ControlState):
    """Month settings on top of the control state; EmulatorState.__init__ sets the configuration declared here."""

    s3: S3Client
    bucket: str
    vendor_id: str
    data: SalesData
    defaults: MonthOptions
    _generate_lock: threading.Lock

    def set_month(
        self,
        year: int,
        month: int,
        *,
        variant: str | None = None,
        compression: str | None = None,
        bom: bool | None = None,
        rows: int | None = None,
        line_ending: str | None = None,
        empty: bool = False,
        header_only: bool = False,
        multi_member: bool = False,
    ) -> None:
        """Replace one month's settings (None: the emulator default); the month exists unless empty."""
        d = self.defaults
        options = MonthOptions(
            variant=variant or d.variant,
            compression=compression or d.compression,
            bom=d.bom if bom is None else bom,
            line_ending=line_ending or d.line_ending,
            rows=rows,
            header_only=header_only,
            multi_member=multi_member,
        )
        with self._lock:
            self._months[(year, month)] = options
            self._empty[(year, month)] = empty

    def restate(self, year: int, month: int) -> int:
        """Bump a month's revision (changes an amount, adds a refund); return the new revision."""
        with self._lock:
            self._revisions[(year, month)] = self._revisions.get((year, month), 0) + 1
            return self._revisions[(year, month)]

    def month_options(self, year: int, month: int) -> MonthOptions:
        """The options a month's file is written with now (including its revision)."""
        with self._lock:
            options = self._months.get((year, month), self.defaults)
            return replace(options, revision=self._revisions.get((year, month), 0))

    def has_report(self, year: int, month: int) -> bool:
        """Whether the sales report for a month exists (range, missing and empty months)."""
        current = time.gmtime(self.now())
        if not FIRST_MONTH <= (year, month) <= (current.tm_year, current.tm_mon) or not 1 <= month <= 12:
            return False
        with self._lock:
            if (year, month) in self._empty:
                return not self._empty[(year, month)]
        return (year, month) not in self.data.missing_months

    def expected_totals(self, year: int, month: int) -> MonthTotals | None:
        """The generator's truth for the file served now, or None when there is no report."""
        if not self.has_report(year, month):
            return None
        return self.data.expected_totals(year, month, self.month_options(year, month))

    def object_key(self, year: int, month: int) -> str:
        """Generate (or reuse) the month's file in the bucket and return its key."""
        options = self.month_options(year, month)
        with self._generate_lock:
            cached = self._cache.get((year, month))
            if cached is not None and cached[0] == options:
                return cached[1]
            key = f"{self.vendor_id}/sales/{file_name(year, month, options.compression)}"
            with tempfile.TemporaryFile() as spool:
                self.data.write_report(spool, year, month, options)
                spool.seek(0)
                self.s3.upload_fileobj(spool, self.bucket, key)
            self._cache[(year, month)] = (options, key)
            return key

    def set_report_answer(self, report: str, answer: str) -> None:
        """How link requests for a report type are answered: 'file', 'not_found' or 'unsupported' (400 request scope)."""
        if report not in ("sales", "earnings", "earnings_yearly", "subscription") or answer not in ANSWERS:
            raise ValueError(f"unknown report type {report!r} or answer {answer!r}; answers: {list(ANSWERS)}")
        with self._lock:
            self._answers[report] = answer

    def report_answer(self, report: str) -> str:
        """The configured answer for a report type ('file' unless set)."""
        with self._lock:
            return self._answers.get(report, "file")
