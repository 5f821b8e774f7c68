"""Cold start: importing the handler loads no converter; each is imported by the first month that needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FUNCTION_DIR = REPO / "functions" / "archiver"
CONVERTERS = {"archiver.formats.sales_csv", "archiver.formats.decode", "archiver.formats.sections", "archiver.formats.section_reader"}


def loaded_after(code: str) -> set[str]:
    """The archiver modules loaded after running `code` in a fresh interpreter with the function's directory on sys.path."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('archiver'))))"
    done = subprocess.run([sys.executable, "-c", script], cwd=FUNCTION_DIR, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_handler_loads_neither_the_sales_converter_nor_the_schema_free_parser() -> None:
    modules = loaded_after("import app")
    assert "archiver.run.pipeline" in modules and "archiver.storage.prepare" in modules
    assert modules & CONVERTERS == set()


def test_the_fingerprint_of_an_unchanged_sales_month_needs_no_converter_and_the_curated_format_is_unchanged() -> None:
    code = "from archiver.storage.prepare import fingerprint\nfrom archiver.core.report_types import SALES\nprint(fingerprint(SALES))"
    assert loaded_after(code) & CONVERTERS == set()
    from archiver.core.report_types import REPORT_TYPES, SALES
    from archiver.formats.sales_csv import COLUMNS_FINGERPRINT
    from archiver.formats.sections import FORMAT_FINGERPRINT
    from archiver.storage.prepare import fingerprint

    assert COLUMNS_FINGERPRINT == "5089f62350ff5c9f"  # the value archived objects carry: moving it must not change it
    assert {report.name: fingerprint(report) for report in REPORT_TYPES} == {
        report.name: COLUMNS_FINGERPRINT if report is SALES else FORMAT_FINGERPRINT for report in REPORT_TYPES
    }
