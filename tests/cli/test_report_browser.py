"""The report in a real browser (headless Chromium from Debian; `make browser`): no console message, every chart drawn, a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.reportpage import read
from tests.cli.test_report import archive_with_restatement, write_report

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # gitignored: the screenshot of each run
CHART = re.compile(r'<div class="chart" data-chart="([^"]+)">(.*?)</svg></div>', re.S)
MARKS = re.compile(r'<g class="mark-(?:rect|line|symbol)[^"]*"[^>]*>\s*<path ')


def chromium() -> str:
    """The browser; a test without it is skipped on a developer's machine and fails in CI (whose `make test` installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make browser` installs Debian's package")
        pytest.skip("chromium is not installed: `make browser` installs Debian's package")
    return found


def browse(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on the file, its console written to stderr."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([*command, *flags, page.as_uri()], capture_output=True, text=True, timeout=120, check=True)


def test_chromium_opens_the_report_draws_every_chart_and_logs_nothing(local, tmp_path: Path) -> None:
    stack, state = local
    archive_with_restatement(stack, state)
    out = tmp_path / "report.html"
    expected = read(write_report(state, out)).charts
    opened = browse(out, tmp_path / "profile", "--dump-dom")
    assert "CONSOLE" not in opened.stderr, opened.stderr  # a console message of any level (an error, a blocked load)
    drawn = CHART.findall(opened.stdout)
    assert [name for name, _ in drawn] == expected and len(expected) >= 12
    for name, svg in drawn:
        assert "<svg" in svg and MARKS.search(svg), f"chart {name} has no marks"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    browse(out, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2200", "--hide-scrollbars")
    assert shot.stat().st_size > 20_000
