"""The handler's stdout during the demo: one progress line per month as it ends, EMF metric blobs kept for the totals."""

from __future__ import annotations

import io
import json
import sys
from typing import Any, TextIO


def progress_line(entry: dict[str, Any]) -> str:
    """A period's log line as one progress line, e.g. `  sales         2024-03  archived       62 rows    2.7 KB`."""
    line = f"  {entry.get('report', 'sales'):<16}{entry['month']:<9}{entry['status']:<12}"
    if entry.get("rows") is not None:
        line += f" {entry['rows']:>8,} rows"
    if entry.get("bytes") is not None:
        line += f" {entry['bytes'] / 1000:>7.1f} KB"
    if entry.get("error"):
        line += f"  {entry['error']}"
    if entry.get("unknown_columns"):
        line += f"  schema drift: {', '.join(entry['unknown_columns'])}"
    if entry.get("guesses"):
        line += f"  {entry['guesses']} heuristic guess(es)"
    return line.rstrip()


class RunOutput(io.TextIOBase):
    """A stdout for the handler: its per-month JSON log lines become progress lines, everything else is kept."""

    def __init__(self, show: TextIO | None = None) -> None:
        super().__init__()
        self.show = show or sys.stdout
        self.kept = io.StringIO()  # EMF metric blobs and other log lines, read back by the demo
        self.months = 0
        self._partial = ""

    def writable(self) -> bool:
        """Writable, as a stdout is."""
        return True

    def write(self, text: str) -> int:
        """Split into lines; handle each complete one."""
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        """Show a month's log line as progress; keep any other line."""
        try:
            entry = json.loads(line) if line.startswith("{") else None
        except ValueError:
            entry = None
        if isinstance(entry, dict) and "_aws" not in entry and {"month", "status"} <= entry.keys():
            self.months += 1
            print(progress_line(entry), file=self.show, flush=True)
        else:
            self.kept.write(line + "\n")
