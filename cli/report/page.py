"""The report as one self-contained HTML page: inline SVG charts, tables of the exact numbers, no script, no URL."""

from __future__ import annotations

from html import escape

from cli.report import charts
from cli.report.figure import LEGEND, Cell, Figure, Section, Table

OPEN_ROWS = 24  # a table this long or shorter is shown open under its chart; a longer one opens on a click
STYLE = """
body { font-family: sans-serif; margin: 2rem auto; max-width: 1180px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.meta, .intro, .note, .legend { color: #555; }
.figure { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; margin: 1.5rem 0; }
.chart svg { max-width: 100%; height: auto; }
details { flex: 1 1 320px; max-height: 420px; overflow: auto; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.2rem 0.5rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f5f5f5; position: sticky; top: 0; }
"""


def cell(value: Cell) -> str:
    """A table cell; a number is right-aligned and keeps its exact value in data-value (none when unknown), its tooltip in
    title, and how many of a total's parts have no value in data-unknown-parts."""
    if isinstance(value, str):
        return f"<td>{escape(value)}</td>"
    attributes = "" if value.exact is None else f' data-value="{escape(value.exact)}"'
    attributes += f' data-unknown-parts="{value.unknown_parts}"' if value.unknown_parts else ""
    attributes += f' title="{escape(value.title)}"' if value.title else ""
    return f'<td class="n"{attributes}>{escape(value.shown)}</td>'


def table(figure_id: str, data: Table) -> str:
    """The figure's numbers, in a details element (open when short)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in data.headers)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in data.rows)
    opened = " open" if len(data.rows) <= OPEN_ROWS else ""
    summary = f"The numbers ({len(data.rows)} row{'s' if len(data.rows) != 1 else ''})"
    rows = f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
    return f'<details{opened}><summary>{summary}</summary><table id="table-{figure_id}">{rows}</table></details>'


def figure(item: Figure) -> str:
    """A chart beside its table, with its note."""
    chart = f'<div class="chart" data-chart="{item.id}">{charts.svg(item.spec)}</div>' if item.spec is not None else ""
    note = f'<p class="note">{escape(item.note)}</p>' if item.note else ""
    return f'<div class="figure" id="figure-{item.id}">{chart}{table(item.id, item.table)}</div>{note}'


def section(part: Section) -> str:
    """A heading, its intro and its figures."""
    figures = "".join(figure(f) for f in part.figures)
    return f"<section><h2>{escape(part.title)}</h2><p class='intro'>{escape(part.intro)}</p>{figures}</section>"


def page(title: str, meta: str, summary: Table, parts: list[Section]) -> str:
    """The whole document."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head><body>'
        f"<h1>{escape(title)}</h1><p class='meta'>{escape(meta)}</p><p class='legend'>{escape(LEGEND)}</p>"
        f'<h2>Totals per currency</h2><div class="figure">{table("summary", summary)}</div>'
        f"{''.join(section(p) for p in parts)}</body></html>\n"
    )
