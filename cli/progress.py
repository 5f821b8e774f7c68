"""One progress bar over a run's planned periods of every report type, with each outcome printed as it ends."""

from __future__ import annotations

from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

COLOURS = {
    "archived": "green",
    "unchanged": "cyan",
    "not_found": "yellow",
    "deferred": "magenta",
    "failed": "bold red",
    "unsupported": "yellow",
}
Planned = tuple[str, str]  # (report type, period)


class RunDisplay:
    """Shows a run's progress; counts the outcomes."""

    def __init__(self, console: Console, planned: list[Planned], title: str) -> None:
        self.console, self.planned = console, set(planned)
        self.seen: set[Planned] = set()
        self.outcomes: Counter[str] = Counter()
        self.failed: list[str] = []
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self.progress = Progress(*columns, console=console, transient=False)
        self.task = self.progress.add_task(title, total=len(planned) or None)

    def __enter__(self) -> RunDisplay:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None) -> None:
        self.progress.stop()

    def note(self, text: str) -> None:
        """A line above the bar."""
        self.progress.console.print(text, highlight=False)

    def month(self, report: str, month: str, status: str, error: str | None = None) -> None:
        """One period of a report type ended: print its outcome and advance the bar once per planned period.

        An `unsupported` result is the type's only one in the run: its other planned periods are not asked, so they end too.
        """
        colour = COLOURS.get(status, "white")
        detail = f"  {escape(error)}" if error else ""
        line = f"  {escape(report)} {escape(month)}  [{colour}]{escape(status)}[/]{detail}"
        self.progress.console.print(line, highlight=False, markup=True)
        self.outcomes[status] += 1
        if status == "failed":
            self.failed.append(f"{report} {month}")
        ended = {p for p in self.planned if p[0] == report} if status == "unsupported" else {(report, month)}
        for item in (ended & self.planned) - self.seen:
            self.seen.add(item)
            self.progress.advance(self.task)

    def summary(self) -> str:
        """Counts by outcome, e.g. '3 archived, 1 not_found'."""
        return ", ".join(f"{n} {status}" for status, n in self.outcomes.most_common()) or "no period reported"
