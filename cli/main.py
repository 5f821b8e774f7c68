"""The `appstore-archive` command: status, verify, run, query and report, against a deployed stack or the local stack."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from archiver.core.months import Month
from cli import history, output, runner, status, statusview, verify
from cli.errors import FAILED, Failure, Group
from cli.options import Selected, chosen_reports, report_option, target_options
from cli.plan import build_event, validate
from cli.query import run_query
from cli.report.command import report_command


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Operate the Appstore reports archive: see it, audit it, run it, query it."""


@cli.command("status")
@target_options
@report_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON document (keyed by report type)")
def status_command(target: Selected, reports: tuple[str, ...], as_json: bool) -> None:
    """A calendar per report type, each archived period's figures, the last successful run and alarms firing."""
    chosen = target()
    document = status.collect(chosen, chosen_reports(chosen, reports))
    out = output.console()
    if as_json:
        out.file.write(output.to_json(document) + "\n")
    else:
        statusview.print_status(out, document)


@cli.command("verify")
@target_options
@report_option
@click.option("--json", "as_json", is_flag=True, help="print a JSON document")
@click.option("--repair", is_flag=True, help="put the broken periods right (a repair run of exactly them), then audit again")
def verify_command(target: Selected, reports: tuple[str, ...], as_json: bool, repair: bool) -> None:
    """Audit every period of every report type, read-only; exit status 1 when anything is wrong.

    With --repair, after a repair run the archive is audited again: the exit status is that audit's. While a run holds
    the archive's lease, its pending markers and uploads are reported as in progress, and --repair runs nothing (exit 1).
    """
    chosen, out = target(), output.console()
    shown = out if not as_json else output.console(sys.stderr)  # the run's progress and the closing list
    types = chosen_reports(chosen, reports)
    found = verify.audit(chosen, types)
    if not as_json:
        output.print_problems(out, found.problems, found.months, found.objects, len(found.reports))
        output.print_guesses(out, found.guesses)
        if found.running:
            out.print(f"[yellow]{escape(found.running)}[/]: its pending markers and uploads are its own, not problems")
    if repair and found.running:  # the run holding the lease is writing: a repair run would only end busy
        shown.print(f"[bold yellow]busy[/]: {escape(found.running)}: no repair run; verify again once it has ended")
        if as_json:
            out.file.write(output.to_json(found.as_json()) + "\n")
        raise SystemExit(FAILED)
    if repair and found.repair():
        event = {"repair": found.repair()}  # exactly the broken (report type, period) pairs; never forced
        validate(event)
        runner.execute(chosen, event, shown)  # whatever the run says (busy, not_found, deferred), the audit decides
        before, found = found, verify.audit(chosen, types)
        if not as_json:
            out.print("after the repair:")
            output.print_problems(out, found.problems, found.months, found.objects, len(found.reports))
        document = {**found.as_json(), "before": before.as_json()}
    else:
        document = found.as_json()
    if as_json:
        out.file.write(output.to_json(document) + "\n")
    if repair:
        output.print_manual(shown, found.problems)
    raise SystemExit(FAILED if found.problems else 0)


@cli.command("run")
@target_options
@click.option("--months", multiple=True, metavar="YYYY-MM[,…]", help="exactly these months (repeatable, comma-separated)")
@click.option("--from", "first", metavar="YYYY-MM", help="first month of a range")
@click.option("--to", "last", metavar="YYYY-MM", help="last month of a range (default: the current month)")
@click.option("--force", is_flag=True, help="rewrite months even when unchanged")
@click.option("--detach", is_flag=True, help="start the run and return without following it")
@click.option("--timeout", type=float, default=runner.FOLLOW_SECONDS, show_default=True, help="seconds to follow the run's logs")
@click.option("--poll-seconds", type=float, default=2.0, hidden=True)
def run_command(
    target: Selected,
    months: tuple[str, ...],
    first: str | None,
    last: str | None,
    force: bool,
    detach: bool,
    timeout: float,
    poll_seconds: float,
) -> None:
    """Run the archiver (default plan, or --months / --from/--to) and follow it month by month."""
    event = build_event(months, first, last, force)
    succeeded = runner.execute(target(), event, output.console(), detach=detach, timeout=timeout, poll=poll_seconds)
    raise SystemExit(0 if succeeded else FAILED)


@cli.command("query")
@target_options
@click.argument("sql", required=False)
@click.option("--named", metavar="NAME", help="run the template's saved query NAME")
@click.option("--csv", "as_csv", is_flag=True, help="print CSV")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def query_command(target: Selected, sql: str | None, named: str | None, as_csv: bool, as_json: bool) -> None:
    """Run Athena SQL (or a saved query) and print the result."""
    if bool(sql) == bool(named):
        raise Failure("give either SQL or --named NAME")
    if as_csv and as_json:
        raise Failure("give either --csv or --json")
    chosen = target()
    out = output.console()
    if as_csv or as_json or chosen.local:
        result = run_query(chosen, sql, named)
    else:
        with output.console(sys.stderr).status("running the query in Athena…"):
            result = run_query(chosen, sql, named)
    output.print_result(out, result.columns, result.rows, "csv" if as_csv else "json" if as_json else "table")


@cli.command("history")
@target_options
@click.argument("month", metavar="YYYY-MM")
@click.option("--json", "as_json", is_flag=True, help="print a JSON document")
def history_command(target: Selected, month: str, as_json: bool) -> None:
    """Every version of a sales month Amazon served, and what changed between them (rows, totals per currency)."""
    try:
        period = Month.parse(month)
    except ValueError as exc:
        raise Failure(str(exc)) from None
    found = history.versions(target(), period)
    out = output.console()
    if as_json:
        out.file.write(output.to_json(history.document(period, found)) + "\n")
    else:
        history.print_history(out, period, found)


cli.add_command(report_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="appstore-archive")


if __name__ == "__main__":
    main()
