"""`run` and `verify --repair` with every report type: one progress bar over all types' periods, a broken year repaired."""

from __future__ import annotations

import io

from rich.console import Console

from archiver.core.periods import Year
from cli.progress import RunDisplay
from tests.cli.conftest import invoke
from tests.cli.healthy import Healthy


def test_local_run_counts_every_report_types_results(local) -> None:
    _, state = local
    result = invoke("run", "--state-file", str(state), "--months", "2024-01,2024-02")
    assert result.exit_code == 0, result.output
    assert "7 period(s) planned (sales 2024-01 … 2024-02 (2), earnings 2024-01 … 2024-02 (2), earnings_yearly 2024," in result.stdout
    for line in ("sales 2024-02  archived", "earnings 2024-01  archived", "earnings_yearly 2024  archived", "subscription 2024-02"):
        assert line in result.stdout
    assert "7/7" in result.stdout


def test_local_verify_repair_of_a_broken_year_repairs_that_year(local, healthy: Healthy) -> None:
    _, state = local
    healthy.replace(healthy.store_of("earnings_yearly").curated_key(Year(2023)), rows="99")
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 0, result.output
    assert 'event {"repair": [{"report": "earnings_yearly","period": "2023"}]}' in result.stdout
    assert "earnings_yearly 2023  archived" in result.stdout
    assert "sales 2023-01" not in result.stdout and "earnings 2023-01" not in result.stdout  # no other type touched
    assert invoke("verify", "--state-file", str(state)).exit_code == 0


def test_an_unsupported_type_ends_all_its_planned_periods() -> None:
    display = RunDisplay(Console(file=io.StringIO()), [("sales", "2024-01"), ("earnings", "2024-01"), ("earnings", "2024-02")], "run")
    display.month("earnings", "2024-01", "unsupported", "refused")
    display.month("sales", "2024-01", "archived")
    display.month("sales", "2023-12", "archived")  # not planned: shown, not counted
    assert display.seen == display.planned
    assert display.progress.tasks[0].completed == 3
